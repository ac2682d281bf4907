// What the page knows: me, friends, requests, groups, conversations and the messages loaded so far. Views read
// it and re-draw on 'change'; the session module fills it from responses and pushes. Chats are keyed 'u:<peer id>'
// (one-to-one) or 'g:<group id>' (group); direct messages are keyed by message_id, group entries by seq.

const STATUS_RANK = { sent: 0, delivered: 1, read: 2 };

export class Store extends EventTarget {
  constructor() {
    super();
    // The socket's state (connection.js), kept apart from what reset() forgets at sign-in and sign-out.
    this.connection = 'closed';
    this.reset();
  }

  reset() {
    this.me = null;
    this.friends = new Map();
    this.names = new Map();
    this.incoming = [];
    this.outgoing = [];
    this.groups = new Map();
    this.members = new Map();
    this.conversations = new Map();
    this.chats = new Map();
    // get_file_url answers, by file id: { url, until } (files.js).
    this.fileUrls = new Map();
    // get_blocked_users: user id -> { user_id, username } (the Friends tab lists them for unblocking).
    this.blocked = new Map();
    // Status news that can overtake the answer to my own send (the peer acks the push before I hear back).
    this.readUpTo = new Map();
    this.earlyStatus = new Map();
    this.changed();
  }

  changed(what = 'all') {
    if (this.pendingChange) return;
    this.pendingChange = true;
    queueMicrotask(() => {
      this.pendingChange = false;
      this.dispatchEvent(new CustomEvent('change', { detail: what }));
    });
  }

  nameOf(userId) {
    if (this.me && userId === this.me.user_id) return this.me.username;
    const friend = this.friends.get(userId);
    if (friend) return friend.remark || friend.username;
    return this.names.get(userId) || String(userId);
  }

  rememberName(userId, username) {
    if (userId && username) this.names.set(userId, username);
  }

  setFriends(list) {
    this.friends = new Map(list.map((f) => [f.user_id, f]));
    for (const f of list) this.rememberName(f.user_id, f.username);
    this.changed();
  }

  setPresence(userId, status, lastSeen) {
    const friend = this.friends.get(userId);
    if (friend) {
      friend.status = status;
      if (lastSeen) friend.last_seen = lastSeen;
    }
    const conv = this.conversations.get('u:' + userId);
    if (conv) conv.status = status;
    this.changed();
  }

  setRequests(incoming, outgoing) {
    this.incoming = incoming;
    this.outgoing = outgoing;
    for (const r of [...incoming, ...outgoing]) this.rememberName(r.user_id, r.username);
    this.changed();
  }

  setBlocked(list) {
    this.blocked = new Map(list.map((u) => [u.user_id, u]));
    for (const u of list) this.rememberName(u.user_id, u.username);
    this.changed();
  }

  setGroups(list) {
    this.groups = new Map(list.map((g) => [g.group_id, g]));
    this.changed();
  }

  /**
   * get_conversations' list: direct chats and groups, newest first; then every group of get_groups and every peer of
   * get_unread_counts that the list (capped at 100) left out.
   */
  setConversations(list, { groups = [], unreadPeers = [] } = {}) {
    this.conversations = new Map();
    for (const c of list) {
      if (c.kind === 'group') {
        this.conversations.set('g:' + c.group_id, { key: 'g:' + c.group_id, kind: 'group', id: c.group_id, title: c.name,
          last: c.last_message, order: c.last_message ? c.last_message.message_id : 0, unread: c.unread_count });
      } else {
        this.rememberName(c.peer_id, c.username);
        this.conversations.set('u:' + c.peer_id, { key: 'u:' + c.peer_id, kind: 'direct', id: c.peer_id, title: c.username,
          status: c.status, last: c.last_message, order: c.last_message ? c.last_message.message_id : 0, unread: c.unread_count });
      }
    }
    for (const g of groups) {
      const key = 'g:' + g.group_id;
      if (this.conversations.has(key)) continue;
      this.conversations.set(key, { key, kind: 'group', id: g.group_id, title: g.name, last: g.last_message || null,
        order: g.last_message ? g.last_message.message_id : 0, unread: g.unread_count || 0 });
    }
    for (const p of unreadPeers) {
      const key = 'u:' + p.peer_id;
      if (this.conversations.has(key)) continue;
      // Older than everything listed (the list is newest first), so it goes last until its chat is opened.
      this.conversations.set(key, { key, kind: 'direct', id: p.peer_id, title: this.nameOf(p.peer_id),
        status: (this.friends.get(p.peer_id) || {}).status, last: null, order: 0, unread: p.unread });
    }
    this.changed();
  }

  conversationList() {
    return [...this.conversations.values()].sort((a, b) => b.order - a.order);
  }

  /** The conversation entry for a chat, created when a first message arrives or the user opens a new chat. */
  conversation(key) {
    let conv = this.conversations.get(key);
    if (!conv) {
      const [kind, idText] = key.split(':');
      const id = Number(idText);
      conv = kind === 'g'
        ? { key, kind: 'group', id, title: (this.groups.get(id) || {}).name || 'group ' + id, last: null, order: 0, unread: 0 }
        : { key, kind: 'direct', id, title: this.nameOf(id), status: (this.friends.get(id) || {}).status, last: null, order: 0, unread: 0 };
      this.conversations.set(key, conv);
    }
    return conv;
  }

  chat(key) {
    let chat = this.chats.get(key);
    if (!chat) {
      chat = { key, items: new Map(), hasMore: true, loaded: false };
      this.chats.set(key, chat);
    }
    return chat;
  }

  /** Sorted oldest first: message ids grow within a conversation, seqs within a group. */
  chatItems(key) {
    return [...this.chat(key).items.values()].sort((a, b) => (a.seq ?? a.message_id) - (b.seq ?? b.message_id));
  }

  directKey(message) {
    const peer = message.sender_id === this.me.user_id ? message.receiver_id : message.sender_id;
    return 'u:' + peer;
  }

  /** A one-to-one message from history, sync or a push. Returns true when it is new to the page. */
  putMessage(message, { countUnread = false } = {}) {
    const key = this.directKey(message);
    const chat = this.chat(key);
    const known = chat.items.get(message.message_id);
    if (known) {
      if (message.file && !known.file) known.file = message.file;
      // A later copy may only move a status forward or mark a recall.
      if ((STATUS_RANK[message.status] ?? 0) > (STATUS_RANK[known.status] ?? 0)) known.status = message.status;
      if (message.recalled) { known.recalled = true; known.content = undefined; known.file = undefined; }
    } else {
      const item = { ...message };
      if (item.sender_id === this.me.user_id) this.applyEarlyStatus(item);
      chat.items.set(item.message_id, item);
    }
    this.bumpConversation(key, message, countUnread && !known && message.sender_id !== this.me.user_id);
    this.changed();
    return !known;
  }

  putGroupEntry(entry, { countUnread = false } = {}) {
    const key = 'g:' + entry.group_id;
    const chat = this.chat(key);
    const known = chat.items.get(entry.seq);
    if (known) {
      if (entry.recalled) { known.recalled = true; known.content = undefined; known.file = undefined; }
    } else {
      chat.items.set(entry.seq, { ...entry });
    }
    const group = this.groups.get(entry.group_id);
    if (group && entry.seq > (group.max_seq || 0)) group.max_seq = entry.seq;
    const countable = (entry.type === 'text' || entry.type === 'file') && entry.sender_id !== this.me.user_id;
    this.bumpConversation(key, entry, countUnread && !known && countable);
    this.changed();
    return !known;
  }

  bumpConversation(key, message, unread) {
    const conv = this.conversation(key);
    if (message.message_id >= conv.order) {
      conv.order = message.message_id;
      conv.last = message;
    }
    if (unread) conv.unread = (conv.unread || 0) + 1;
  }

  /** message_status push: one message, or every message of mine to the peer up to an id. */
  setStatus({ message_id, up_to_message_id, peer_id, status }) {
    const chat = this.chat('u:' + peer_id);
    let found = false;
    for (const m of chat.items.values()) {
      if (m.sender_id !== this.me.user_id) continue;
      const hit = message_id ? m.message_id === message_id : m.message_id <= up_to_message_id;
      if (hit) found = true;
      if (hit && (STATUS_RANK[status] ?? 0) > (STATUS_RANK[m.status] ?? 0)) m.status = status;
    }
    if (up_to_message_id && status === 'read') {
      this.readUpTo.set(peer_id, Math.max(this.readUpTo.get(peer_id) || 0, up_to_message_id));
    } else if (message_id && !found) {
      this.earlyStatus.set(message_id, status);
    }
    this.changed();
  }

  applyEarlyStatus(item) {
    const early = this.earlyStatus.get(item.message_id);
    if (early && (STATUS_RANK[early] ?? 0) > (STATUS_RANK[item.status] ?? 0)) item.status = early;
    this.earlyStatus.delete(item.message_id);
    if (item.message_id <= (this.readUpTo.get(item.receiver_id) || 0)) item.status = 'read';
  }

  recall(key, id) {
    const item = this.chat(key).items.get(id);
    if (item) { item.recalled = true; item.content = undefined; item.file = undefined; }
    const conv = this.conversations.get(key);
    if (conv && conv.last && (conv.last.seq ?? conv.last.message_id) === id) conv.last = { ...conv.last, recalled: true, content: undefined };
    this.changed();
  }

  markConversationRead(key) {
    const conv = this.conversations.get(key);
    if (conv && conv.unread) { conv.unread = 0; this.changed(); }
  }

  /** The largest one-to-one message id the page holds: where sync_messages starts after a reconnect. */
  lastDirectId() {
    let max = 0;
    for (const [key, chat] of this.chats) {
      if (!key.startsWith('u:')) continue;
      for (const id of chat.items.keys()) if (id > max) max = id;
    }
    return max;
  }

  totalUnread() {
    let n = 0;
    for (const c of this.conversations.values()) n += c.unread || 0;
    return n;
  }
}
