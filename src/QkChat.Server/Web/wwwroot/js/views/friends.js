// Friends: find people, send requests, answer incoming ones, see friends with presence and set a private remark;
// block and unblock people (§7: a block works both ways, the friendship stays; blocked people are listed here).
import { h, presenceDot } from '../dom.js';
import { showError, showNotice } from './toast.js';

export function renderFriends(ctx, state) {
  const { store, conn, redraw } = ctx;
  // Drafts live in state: a push re-draws this panel while someone types.
  const query = h('input', { type: 'search', placeholder: 'username, e-mail or user id', testid: 'friend-search-input', value: state.query || '',
    oninput: () => { state.query = query.value; } });
  const search = h('form', {
    class: 'search',
    onsubmit: async (ev) => {
      ev.preventDefault();
      state.query = query.value.trim();
      if (!state.query) return;
      try {
        const d = await conn.request('search_users', { query: state.query, limit: 20 });
        state.results = (d.users || []).filter((u) => u.user_id !== store.me.user_id);
        for (const u of state.results) store.rememberName(u.user_id, u.username);
        redraw();
      } catch (e) { showError(e); }
    },
  }, query, h('button', { type: 'submit', testid: 'friend-search-submit' }, 'Search'));

  const results = state.results
    ? h('ul', { class: 'items compact', testid: 'search-results' },
      state.results.length ? state.results.map((u) => h('li', { class: 'row', testid: 'search-result', dataset: { username: u.username } },
        presenceDot(u.status), h('span', { class: 'item-title' }, u.username),
        store.blocked.has(u.user_id)
          ? blockButton(ctx, u)
          : store.friends.has(u.user_id)
            ? h('span', { class: 'hint' }, 'friend')
            : [h('button', { class: 'small', testid: 'add-friend', onclick: () => sendRequest(ctx, u) }, 'Add'), blockButton(ctx, u)]))
        : h('li', { class: 'hint' }, 'Nobody found.'))
    : null;

  const incoming = store.incoming.length
    ? h('section', {}, h('h3', {}, 'Friend requests'),
      h('ul', { class: 'items compact' }, store.incoming.map((r) => h('li', { class: 'row', testid: 'incoming-request', dataset: { username: r.username } },
        h('span', { class: 'item-main' }, h('span', { class: 'item-title' }, r.username), r.message ? h('span', { class: 'item-sub' }, r.message) : null),
        h('button', { class: 'small primary', testid: 'accept-request', onclick: () => respond(ctx, r, true) }, 'Accept'),
        h('button', { class: 'small', testid: 'decline-request', onclick: () => respond(ctx, r, false) }, 'Decline')))))
    : null;

  const outgoing = store.outgoing.length
    ? h('section', {}, h('h3', {}, 'Waiting for an answer'),
      h('ul', { class: 'items compact' }, store.outgoing.map((r) => h('li', { class: 'row', testid: 'outgoing-request', dataset: { username: r.username } },
        h('span', { class: 'item-title' }, r.username), h('span', { class: 'hint' }, 'pending')))))
    : null;

  const friends = [...store.friends.values()].sort((a, b) => (a.remark || a.username).localeCompare(b.remark || b.username));
  const list = h('section', {}, h('h3', {}, `Friends (${friends.length})`),
    friends.length
      ? h('ul', { class: 'items compact', testid: 'friend-list' }, friends.map((f) => friendRow(ctx, state, f)))
      : h('p', { class: 'hint' }, 'No friends yet: search for someone above.'));

  const blockedUsers = [...store.blocked.values()].sort((a, b) => a.username.localeCompare(b.username));
  const blocked = blockedUsers.length
    ? h('section', {}, h('h3', {}, `Blocked (${blockedUsers.length})`),
      h('ul', { class: 'items compact', testid: 'blocked-list' }, blockedUsers.map((u) => h('li', { class: 'row', testid: 'blocked-user', dataset: { username: u.username } },
        h('span', { class: 'item-main' }, h('span', { class: 'item-title' }, u.username),
          h('span', { class: 'item-sub' }, 'neither of you can message the other')),
        blockButton(ctx, u)))))
    : null;

  return h('div', { class: 'friends' }, search, results, incoming, outgoing, list, blocked);
}

/** Block, or Unblock for someone blocked already. */
function blockButton(ctx, user) {
  const isBlocked = ctx.store.blocked.has(user.user_id);
  return isBlocked
    ? h('button', { class: 'small', testid: 'unblock-user', onclick: () => setBlocked(ctx, user, false) }, 'Unblock')
    : h('button', { class: 'small danger', testid: 'block-user', title: 'Neither of you can send the other messages or requests',
      onclick: () => setBlocked(ctx, user, true) }, 'Block');
}

async function setBlocked(ctx, user, block) {
  try {
    await ctx.conn.request(block ? 'block_user' : 'unblock_user', { user_id: user.user_id });
    const name = user.remark || user.username;
    showNotice(block ? `You blocked ${name}: neither of you can message the other.` : `You unblocked ${name}.`);
    await ctx.session.refreshLists();
  } catch (e) { showError(e); }
}

function friendRow(ctx, state, f) {
  if (state.editing === f.user_id) {
    if (state.remarkDraft === undefined) state.remarkDraft = f.remark || '';
    const input = h('input', { value: state.remarkDraft, maxlength: 64, placeholder: 'remark (only you see it)', testid: 'remark-input',
      oninput: () => { state.remarkDraft = input.value; } });
    return h('li', { class: 'row', testid: 'friend', dataset: { username: f.username } },
      h('form', { class: 'remark-form', onsubmit: (ev) => { ev.preventDefault(); saveRemark(ctx, state, f, input.value.trim()); } },
        input, h('button', { type: 'submit', class: 'small primary', testid: 'remark-save' }, 'Save'),
        h('button', { type: 'button', class: 'small', onclick: () => { state.editing = null; state.remarkDraft = undefined; ctx.redraw(); } }, 'Cancel')));
  }
  const blocked = ctx.store.blocked.has(f.user_id);
  return h('li', { class: 'row', testid: 'friend', dataset: { username: f.username, status: f.status || 'offline', blocked: String(blocked) } },
    presenceDot(f.status),
    h('a', { class: 'item-main', href: `#/chat/u/${f.user_id}`, testid: 'open-chat' },
      h('span', { class: 'item-title', testid: 'friend-name' }, f.remark || f.username),
      h('span', { class: 'item-sub' }, (f.remark ? f.username + ' · ' : '') + (blocked ? 'blocked' : f.status || 'offline'))),
    h('button', { class: 'small', testid: 'edit-remark', title: 'Set a private name for this friend',
      onclick: () => { state.editing = f.user_id; state.remarkDraft = undefined; ctx.redraw(); } }, 'Remark'),
    blockButton(ctx, f));
}

async function sendRequest(ctx, user) {
  try {
    const d = await ctx.conn.request('friend_request', { user_identifier: String(user.user_id) });
    if (d.became_friends) showNotice(`You and ${user.username} are now friends.`);
    else showNotice(`Friend request sent to ${user.username}.`);
    await ctx.session.refreshLists();
  } catch (e) { showError(e); }
}

async function respond(ctx, request, accept) {
  try {
    await ctx.conn.request('respond_friend_request', { friend_request_id: request.friend_request_id, accept });
    showNotice(accept ? `You and ${request.username} are now friends.` : `Declined ${request.username}'s request.`);
    await ctx.session.refreshLists();
  } catch (e) { showError(e); }
}

async function saveRemark(ctx, state, friend, remark) {
  try {
    await ctx.conn.request('set_friend_remark', { friend_id: friend.user_id, remark });
    friend.remark = remark || undefined;
    state.editing = null;
    state.remarkDraft = undefined;
    ctx.store.changed();
  } catch (e) { showError(e); }
}
