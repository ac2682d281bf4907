// Signing in and staying signed in: login, sign-up, token resume after a reload or a dropped socket (then catch-up
// with sync_messages), and the loading of lists the views show. Push handling lives in pushes.js.

const SESSION_KEY = 'qkchat.session';
const LAST_ID_KEY = 'qkchat.last_message_id';
// How much catch-up one resume does before it stops and lets the lists (get_conversations) speak for the rest:
// 5 pages of the contract's maximum 500.
const SYNC_PAGE = 500;
const SYNC_MAX_PAGES = 5;
// get_conversations' largest page (contract: 1-100).
const CONVERSATION_PAGE = 100;

export class Session {
  constructor(connection, store, { onSignedOut, onError }) {
    this.conn = connection;
    this.store = store;
    this.onSignedOut = onSignedOut;
    this.onError = onError;
    this.saved = readSaved();
    this.signedIn = false;
    connection.onState((state) => {
      store.connection = state;
      store.changed('connection');
      // A socket that came back after a drop: resume on it with the saved token.
      if (state === 'open' && this.saved && this.resumeOnOpen) this.resume().catch(() => {});
      if (state === 'closed' || state === 'waiting') this.signedIn = false;
    });
  }

  hasSavedSession() { return !!this.saved; }

  clientId() {
    // One id per browser profile, kept with the session: a second tab of the same profile that logs in replaces
    // the first (the contract's same-device rule), which is what a person expects of "this browser".
    let id = localStorage.getItem('qkchat.client_id');
    if (!id) {
      id = 'web-' + crypto.getRandomValues(new Uint32Array(2)).join('-');
      localStorage.setItem('qkchat.client_id', id);
    }
    return id;
  }

  async sendCode(email) {
    await this.conn.start();
    return this.conn.request('send_verification_code', { email, type: 'register' });
  }

  async register(username, email, password, code) {
    await this.conn.start();
    return this.conn.request('register', { username, email, password, verification_code: code });
  }

  async login(username, password) {
    await this.conn.start();
    const data = await this.conn.request('login', { username, password, client_id: this.clientId(), device: deviceLabel() });
    this.saveSession(data);
    await this.afterSignIn(data);
  }

  /** login_token with the saved token; a token the server refuses signs the page out. */
  async resume() {
    if (!this.saved) throw new Error('no saved session');
    this.resumeOnOpen = true;
    if (this.signedIn || this.resuming) return;
    this.resuming = true;
    try {
      await this.conn.start();
      const data = await this.conn.request('login_token', { token: this.saved.token, client_id: this.saved.client_id });
      this.saveSession(data);
      await this.afterSignIn(data);
    } catch (e) {
      if (e.code === 'TOKEN_INVALID' || e.code === 'UNAUTHENTICATED') this.signOutLocally(e);
      else throw e;
    } finally {
      this.resuming = false;
    }
  }

  async logout() {
    try { await this.conn.request('logout'); } catch { /* signing out locally is what matters */ }
    this.signOutLocally(null);
  }

  signOutLocally(reason) {
    this.saved = null;
    this.signedIn = false;
    this.resumeOnOpen = false;
    localStorage.removeItem(SESSION_KEY);
    localStorage.removeItem(LAST_ID_KEY);
    this.conn.close();
    this.store.reset();
    this.onSignedOut(reason);
  }

  /**
   * Another tab of this browser signed in as the same device (same client_id) and took over: stop here without
   * forgetting the saved sign-in, which is that tab's too. A reload of this tab takes the device back.
   */
  stopHere(reason) {
    this.signedIn = false;
    this.resumeOnOpen = false;
    this.conn.close();
    this.store.reset();
    this.onSignedOut(reason);
  }

  saveSession(data) {
    this.saved = { token: data.token, client_id: this.clientId(), user_id: data.user_id, username: data.username };
    localStorage.setItem(SESSION_KEY, JSON.stringify(this.saved));
    this.resumeOnOpen = true;
  }

  async afterSignIn(data) {
    const sameUser = this.store.me && this.store.me.user_id === data.user_id;
    if (!sameUser) this.store.reset();
    this.store.me = { user_id: data.user_id, username: data.username, email: data.email };
    this.signedIn = true;
    await this.refreshLists();
    await this.catchUp();
    this.store.changed('signed-in');
  }

  /**
   * The lists, as the server has them: friends, requests, blocked people, groups, and the conversation list with its
   * unread counts. get_conversations answers at most 100 (protocol.md); a group beyond those still gets its entry, from
   * get_groups (which lists every group with its last entry and unread count), and a peer beyond them with unread
   * messages one from get_unread_counts, so the list and the badge count everything after a reload without
   * reading any group's entries (docs/web.md, "Catch-up after a reload").
   */
  async refreshLists() {
    const [friends, requests, groups, conversations, blocked, unread] = await Promise.all([
      this.conn.request('get_friend_list'),
      this.conn.request('get_friend_requests'),
      this.conn.request('get_groups'),
      this.conn.request('get_conversations', { limit: CONVERSATION_PAGE }),
      this.conn.request('get_blocked_users'),
      this.conn.request('get_unread_counts'),
    ]);
    this.store.setFriends(friends.friends || []);
    this.store.setRequests(requests.incoming || [], requests.outgoing || []);
    this.store.setBlocked(blocked.users || []);
    this.store.setGroups(groups.groups || []);
    this.store.setConversations(conversations.conversations || [], { groups: groups.groups || [], unreadPeers: unread.counts || [] });
  }

  /** sync_messages from the last id this browser saw (kept across reloads), then each open group's gap. */
  async catchUp() {
    let after = Math.max(this.store.lastDirectId(), Number(localStorage.getItem(LAST_ID_KEY) || 0));
    if (after === 0) {
      // A first sign-in on this browser: the conversation list already shows where things stand.
      for (const c of this.store.conversations.values()) if (c.kind === 'direct' && c.order > after) after = c.order;
    } else {
      for (let page = 0; page < SYNC_MAX_PAGES; page++) {
        const data = await this.conn.request('sync_messages', { after_message_id: after, limit: SYNC_PAGE });
        const received = [];
        for (const m of data.messages || []) {
          this.store.putMessage(m);
          if (m.receiver_id === this.store.me.user_id && m.status === 'sent') received.push(m.message_id);
          after = Math.max(after, m.message_id);
        }
        if (received.length) this.ack(received);
        if (!data.has_more) break;
      }
    }
    this.rememberLastId(after);
    for (const [key, chat] of this.store.chats) {
      if (key.startsWith('g:') && chat.loaded) await this.syncGroup(Number(key.slice(2))).catch(() => {});
    }
  }

  rememberLastId(id) {
    if (id > Number(localStorage.getItem(LAST_ID_KEY) || 0)) localStorage.setItem(LAST_ID_KEY, String(id));
  }

  async syncGroup(groupId) {
    const chat = this.store.chat('g:' + groupId);
    let after = 0;
    for (const seq of chat.items.keys()) if (seq > after) after = seq;
    for (let page = 0; page < SYNC_MAX_PAGES; page++) {
      const data = await this.conn.request('sync_group_messages', { group_id: groupId, after_seq: after, limit: SYNC_PAGE });
      for (const e of data.messages || []) { this.store.putGroupEntry(e); after = Math.max(after, e.seq); }
      if (!data.has_more) break;
    }
  }

  ack(ids) {
    for (let i = 0; i < ids.length; i += 100) {
      this.conn.request('message_ack', { message_ids: ids.slice(i, i + 100) }).catch(() => {});
    }
  }
}

function readSaved() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return saved && saved.token ? saved : null;
  } catch {
    return null;
  }
}

function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'browser';
  return ('web, ' + browser).slice(0, 64);
}
