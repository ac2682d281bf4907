// Groups: my groups with unread counts, and a form to create one with friends as first members.
import { h } from '../dom.js';
import { showError } from './toast.js';

export function renderGroups(ctx, state) {
  const { store } = ctx;
  const groups = [...store.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  const list = groups.length
    ? h('ul', { class: 'items compact', testid: 'group-list' }, groups.map((g) => {
      const conv = store.conversations.get('g:' + g.group_id);
      const unread = conv ? conv.unread : g.unread_count;
      return h('li', { class: 'row', testid: 'group', dataset: { name: g.name } },
        h('span', { class: 'avatar group' }, '#'),
        h('a', { class: 'item-main', href: `#/chat/g/${g.group_id}`, testid: 'open-group' },
          h('span', { class: 'item-title' }, g.name),
          h('span', { class: 'item-sub' }, `${g.member_count} members · ${g.role}`)),
        unread ? h('span', { class: 'badge' }, String(unread)) : null);
    }))
    : h('p', { class: 'hint' }, 'No groups yet.');
  return h('div', { class: 'groups' }, createForm(ctx, state), h('h3', {}, 'My groups'), list);
}

function createForm(ctx, state) {
  const { store, conn } = ctx;
  state.picked = state.picked || new Set();
  const name = h('input', { maxlength: 64, required: true, placeholder: 'group name', testid: 'group-name-input', value: state.name || '',
    oninput: () => { state.name = name.value; } });
  const friends = [...store.friends.values()].sort((a, b) => a.username.localeCompare(b.username));
  const options = friends.map((f) => {
    const box = h('input', { type: 'checkbox', testid: 'group-member-option', dataset: { username: f.username }, checked: state.picked.has(f.user_id),
      onchange: () => { if (box.checked) state.picked.add(f.user_id); else state.picked.delete(f.user_id); } });
    return h('label', { class: 'check' }, box, ' ', f.remark || f.username);
  });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'create-group' }, 'Create group');
  return h('form', {
    class: 'create-group',
    onsubmit: async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const d = await conn.request('create_group', { name: name.value.trim(), member_ids: [...state.picked] });
        state.name = '';
        state.picked = new Set();
        const groups = await conn.request('get_groups');
        store.setGroups(groups.groups || []);
        location.hash = `#/chat/g/${d.group_id}`;
      } catch (e) {
        showError(e);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h3', {}, 'New group'),
  name,
  friends.length ? h('div', { class: 'checks' }, h('span', { class: 'hint' }, 'Members:'), options) : h('p', { class: 'hint' }, 'Add friends to invite them.'),
  submit);
}
