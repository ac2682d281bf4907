// A group's members: roles and presence, adding friends, removing (owner and admins), renaming, leaving; the owner
// also makes members admins and back, hands the group over, and dissolves it. Buttons follow §9's rules, so a person
// is never offered what the server would refuse (the server still decides; a refusal is shown in words).
import { h, clear, presenceDot } from '../dom.js';
import { showError, showNotice } from './toast.js';

// get_group_members' largest page (contract: 1-500); a bigger group pages on with after_user_id.
const MEMBER_PAGE = 500;

export class MembersView {
  constructor(ctx, groupId) {
    this.ctx = ctx;
    this.groupId = groupId;
  }

  mount(root) {
    this.root = root;
    this.onChange = () => this.render();
    this.ctx.store.addEventListener('change', this.onChange);
    this.load();
  }

  unmount() {
    this.ctx.store.removeEventListener('change', this.onChange);
  }

  async load() {
    const { conn, store } = this.ctx;
    if (this.loadingNow) return;
    this.loadingNow = true;
    try {
      const members = [];
      let after;
      for (;;) {
        const fields = { group_id: this.groupId, limit: MEMBER_PAGE };
        if (after) fields.after_user_id = after;
        const d = await conn.request('get_group_members', fields);
        members.push(...(d.members || []));
        if (!d.has_more || !d.members.length) break;
        after = d.members[d.members.length - 1].user_id;
      }
      for (const m of members) store.rememberName(m.user_id, m.username);
      store.members.set(this.groupId, members);
      this.render();
    } catch (e) {
      showError(e);
    } finally {
      this.loadingNow = false;
    }
  }

  render() {
    const { store } = this.ctx;
    const group = store.groups.get(this.groupId);
    const members = store.members.get(this.groupId);
    if (!members && group) this.load();
    const myRole = group ? group.role : 'member';
    const manage = myRole === 'owner' || myRole === 'admin';
    const memberIds = new Set((members || []).map((m) => m.user_id));
    const candidates = [...store.friends.values()].filter((f) => !memberIds.has(f.user_id));
    const pick = h('select', { testid: 'add-member-select' },
      h('option', { value: '' }, 'add a friend…'),
      candidates.map((f) => h('option', { value: String(f.user_id) }, f.remark || f.username)));

    clear(this.root).append(h('section', { class: 'members' },
      h('header', { class: 'chat-head' },
        h('a', { class: 'back', href: `#/chat/g/${this.groupId}`, 'aria-label': 'back to the chat', testid: 'back' }, '‹'),
        h('div', { class: 'chat-names' }, h('h2', { class: 'chat-title', testid: 'members-title' }, group ? group.name : 'Group'),
          h('span', { class: 'chat-sub' }, `${members ? members.length : '…'} members · you are ${myRole}`))),
      h('div', { class: 'members-body' },
        manage ? h('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); this.add(Number(pick.value)); } },
          pick, h('button', { type: 'submit', class: 'small primary', testid: 'add-member' }, 'Add')) : null,
        h('ul', { class: 'items compact', testid: 'member-list' }, (members || []).map((m) => this.row(m, myRole))),
        manage ? this.renameForm(group) : null,
        h('div', { class: 'actions' },
          h('button', { class: 'danger', testid: 'leave-group', onclick: () => this.leave() }, 'Leave group'),
          myRole === 'owner' ? this.dissolveControl() : null))));
  }

  /** Dissolving cannot be undone: a second, explicit button confirms it. */
  dissolveControl() {
    if (!this.confirmDissolve) {
      return h('button', { class: 'danger', testid: 'dissolve-group', onclick: () => { this.confirmDissolve = true; this.render(); } }, 'Dissolve group');
    }
    return h('span', { class: 'confirm', testid: 'dissolve-confirm' },
      h('span', { class: 'hint' }, 'The group and its history go away for everyone. '),
      h('button', { class: 'danger', testid: 'dissolve-group-confirm', onclick: () => this.dissolve() }, 'Dissolve for everyone'),
      h('button', { class: 'small', testid: 'dissolve-group-cancel', onclick: () => { this.confirmDissolve = false; this.render(); } }, 'Cancel'));
  }

  row(m, myRole) {
    const me = this.ctx.store.me.user_id;
    const canRemove = m.user_id !== me && m.role !== 'owner' && (myRole === 'owner' || (myRole === 'admin' && m.role === 'member'));
    const friend = this.ctx.store.friends.get(m.user_id);
    const status = m.user_id === me ? 'online' : friend ? friend.status : m.status;
    // §9: only the owner sets roles and hands the group over; the owner's own role is not settable.
    const owner = myRole === 'owner' && m.user_id !== me && m.role !== 'owner';
    return h('li', { class: 'row', testid: 'group-member', dataset: { username: m.username, role: m.role } },
      presenceDot(status),
      h('span', { class: 'item-main' }, h('span', { class: 'item-title' }, m.username + (m.user_id === me ? ' (you)' : '')),
        h('span', { class: 'item-sub', testid: 'member-role' }, m.role)),
      h('span', { class: 'row-actions' },
        owner && m.role === 'member' ? h('button', { class: 'small', testid: 'make-admin', onclick: () => this.setRole(m, 'admin') }, 'Make admin') : null,
        owner && m.role === 'admin' ? h('button', { class: 'small', testid: 'remove-admin', onclick: () => this.setRole(m, 'member') }, 'Remove admin') : null,
        owner ? h('button', { class: 'small', testid: 'make-owner', title: 'Hand the group over; you become an admin', onclick: () => this.transfer(m) }, 'Make owner') : null,
        canRemove ? h('button', { class: 'small', testid: 'remove-member', onclick: () => this.remove(m) }, 'Remove') : null));
  }

  renameForm(group) {
    const input = h('input', { maxlength: 64, value: group ? group.name : '', testid: 'rename-input' });
    return h('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); this.rename(input.value.trim()); } },
      input, h('button', { type: 'submit', class: 'small', testid: 'rename-group' }, 'Rename'));
  }

  async act(action, fields, done) {
    try {
      await this.ctx.conn.request(action, { group_id: this.groupId, ...fields });
      if (done) showNotice(done);
      this.ctx.store.members.delete(this.groupId);
      await this.load();
    } catch (e) {
      showError(e);
    }
  }

  add(userId) { if (userId) this.act('add_group_members', { user_ids: [userId] }, `Added ${this.ctx.store.nameOf(userId)}.`); }
  remove(m) { this.act('remove_group_member', { user_id: m.user_id }, `Removed ${m.username}.`); }
  rename(name) { if (name) this.act('rename_group', { name }, 'Group renamed.'); }
  setRole(m, role) {
    this.act('set_group_role', { user_id: m.user_id, role }, role === 'admin' ? `${m.username} is now an admin.` : `${m.username} is no longer an admin.`);
  }
  transfer(m) { this.act('transfer_group_owner', { user_id: m.user_id }, `${m.username} now owns the group; you are an admin.`); }

  async dissolve() {
    try {
      await this.ctx.conn.request('dissolve_group', { group_id: this.groupId });
      showNotice('The group was dissolved.');
      location.hash = '#/groups';
    } catch (e) {
      this.confirmDissolve = false;
      this.render();
      showError(e);
    }
  }

  async leave() {
    if (!confirm('Leave this group?')) return;
    try {
      await this.ctx.conn.request('leave_group', { group_id: this.groupId });
      location.hash = '#/groups';
    } catch (e) {
      showError(e);
    }
  }
}
