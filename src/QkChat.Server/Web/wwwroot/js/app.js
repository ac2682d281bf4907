// Wires the page together: the connection, the store, the session and the views, and a hash router
// (#/chats, #/friends, #/groups, #/chat/u/<user id>, #/chat/g/<group id>, #/group/<id>/members, #/account).
import { Connection, defaultUrl } from './connection.js';
import { Store } from './store.js';
import { Session } from './session.js';
import { handlePushes } from './pushes.js';
import { h, clear } from './dom.js';
import { renderAuth } from './views/auth.js';
import { renderConversations } from './views/conversations.js';
import { renderFriends } from './views/friends.js';
import { renderGroups } from './views/groups.js';
import { ChatView } from './views/chat.js';
import { MembersView } from './views/members.js';
import { AccountView } from './views/account.js';
import { showError, showErrorText, showNotice, clearToasts } from './views/toast.js';

const KICK_REASONS = {
  same_device: 'You signed in on this device somewhere else (another tab?), so this page was signed out.',
  revoked: 'This device was signed out (its session was revoked or the password changed).',
  idle_timeout: 'The connection was idle for too long; reconnecting.',
};

const conn = new Connection(defaultUrl());
const store = new Store();
const authRoot = document.getElementById('auth');
const shell = document.getElementById('shell');
const side = document.getElementById('side-body');
const main = document.getElementById('main');
const tabState = { friends: {}, groups: {} };
let mainView = null;
let mainKey = '';

const session = new Session(conn, store, {
  onSignedOut: (reason) => {
    showAuth();
    if (reason) showError(reason);
  },
  onError: showError,
});

const ctx = { conn, store, session, redraw: () => drawSide() };

handlePushes(conn, store, session, {
  onNotice: (text, error) => (error ? showError(error) : showNotice(text)),
  onKicked: (reason) => {
    const text = KICK_REASONS[reason] || `Signed out by the server (${reason}).`;
    if (reason === 'idle_timeout') { showNotice(text); return; }
    if (reason === 'same_device') session.stopHere(null);
    else session.signOutLocally(null);
    showErrorText(text);
  },
});

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'chat' && (parts[1] === 'u' || parts[1] === 'g') && Number(parts[2]) > 0) {
    return { tab: 'chats', main: 'chat', key: parts[1] + ':' + Number(parts[2]) };
  }
  if (parts[0] === 'group' && Number(parts[1]) > 0 && parts[2] === 'members') {
    return { tab: 'groups', main: 'members', groupId: Number(parts[1]) };
  }
  if (parts[0] === 'account') return { tab: 'chats', main: 'account' };
  if (parts[0] === 'friends' || parts[0] === 'groups') return { tab: parts[0], main: null };
  return { tab: 'chats', main: null };
}

function showAuth() {
  shell.hidden = true;
  authRoot.hidden = false;
  if (mainView) { mainView.unmount(); mainView = null; mainKey = ''; }
  renderAuth(authRoot, session, 'login');
}

function showShell() {
  authRoot.hidden = true;
  shell.hidden = false;
  clear(authRoot);
  draw();
}

function drawSide() {
  if (!store.me) return;
  const r = route();
  document.getElementById('me-name').textContent = store.me.username;
  const state = store.connection === 'open' && session.signedIn ? 'online' : store.connection === 'open' ? 'signing in' : 'offline, reconnecting…';
  const conn = document.getElementById('connection-state');
  conn.textContent = state;
  conn.dataset.state = store.connection === 'open' && session.signedIn ? 'online' : 'offline';
  for (const tab of ['chats', 'friends', 'groups']) {
    document.getElementById('tab-' + tab).classList.toggle('current', r.tab === tab);
  }
  const unread = store.totalUnread();
  setBadge('badge-chats', unread);
  setBadge('badge-friends', store.incoming.length);
  const focus = document.activeElement && side.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
  let body;
  if (r.tab === 'friends') body = renderFriends(ctx, tabState.friends);
  else if (r.tab === 'groups') body = renderGroups(ctx, tabState.groups);
  else body = renderConversations(ctx, r.key);
  side.replaceChildren(body);
  // A re-draw while someone types in the side panel (a push arrived) must not steal the caret.
  if (focus) {
    const again = side.querySelector(`[data-testid="${focus}"]`);
    if (again && again.tagName === 'INPUT') { again.focus(); again.setSelectionRange?.(again.value.length, again.value.length); }
  }
  document.title = unread ? `(${unread}) QkChat` : 'QkChat';
}

function setBadge(id, n) {
  const el = document.getElementById(id);
  el.textContent = n ? String(n) : '';
  el.hidden = !n;
}

function drawMain() {
  const r = route();
  const key = r.main === 'chat' ? r.key : r.main === 'members' ? 'members:' + r.groupId : r.main === 'account' ? 'account' : '';
  document.body.classList.toggle('main-open', !!r.main);
  if (key === mainKey) return;
  if (mainView) mainView.unmount();
  mainView = null;
  mainKey = key;
  if (r.main === 'chat') mainView = new ChatView(ctx, r.key);
  else if (r.main === 'members') mainView = new MembersView(ctx, r.groupId);
  else if (r.main === 'account') mainView = new AccountView(ctx);
  if (mainView) mainView.mount(main);
  else main.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, 'Pick a chat on the left, or find friends under Friends.')));
}

function draw() {
  if (!store.me) return;
  drawSide();
  drawMain();
}

store.addEventListener('change', () => {
  if (!store.me) return;
  if (shell.hidden) showShell();
  else drawSide();
});
window.addEventListener('hashchange', draw);
document.getElementById('logout').addEventListener('click', () => session.logout());

if (session.hasSavedSession()) {
  // Reload: resume with the saved token; the shell appears once the lists are in (store 'change').
  authRoot.replaceChildren(h('p', { class: 'placeholder', testid: 'resuming' }, 'Signing you in…'));
  session.resume().catch((e) => { showAuth(); showError(e); });
} else {
  showAuth();
}
clearToasts();
