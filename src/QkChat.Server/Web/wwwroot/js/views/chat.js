// One conversation: history that loads older pages as you scroll up, the composer, sent/delivered/read marks on my
// messages, recall, and read marks sent for what is on screen. Works for one-to-one chats ('u:') and groups ('g:').
import { h, clear, presenceDot } from '../dom.js';
import { showError } from './toast.js';
import { messageRow } from './message.js';
import { uploadFile, sizeText } from '../files.js';

// One page of history: a screenful on a large monitor, small enough to answer quickly (contract maximum 100).
const HISTORY_PAGE = 30;
// How close to the top (px) a scroll must come before the next older page loads.
const LOAD_MARGIN_PX = 60;

export class ChatView {
  constructor(ctx, key) {
    this.ctx = ctx;
    this.key = key;
    this.isGroup = key.startsWith('g:');
    this.id = Number(key.slice(2));
    this.loading = false;
    this.pending = [];
  }

  mount(root) {
    const { store } = this.ctx;
    this.title = h('h2', { class: 'chat-title', testid: 'chat-title' });
    this.subtitle = h('span', { class: 'chat-sub', testid: 'chat-sub' });
    this.dot = h('span');
    this.list = h('div', { class: 'messages', testid: 'messages', onscroll: () => this.onScroll() });
    this.input = h('textarea', { rows: 1, maxlength: 4000, placeholder: 'Write a message', testid: 'composer-input',
      onkeydown: (ev) => { if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); this.send(); } } });
    const head = h('header', { class: 'chat-head' },
      h('a', { class: 'back', href: '#/chats', 'aria-label': 'back to chats', testid: 'back' }, '‹'),
      this.dot,
      h('div', { class: 'chat-names' }, this.title, this.subtitle),
      this.isGroup ? h('a', { class: 'button small', href: `#/group/${this.id}/members`, testid: 'group-members-link' }, 'Members') : null);
    this.filePick = h('input', { type: 'file', hidden: true, testid: 'attach-input',
      onchange: () => { for (const f of this.filePick.files) this.sendFile(f); this.filePick.value = ''; } });
    const composer = h('form', { class: 'composer', onsubmit: (ev) => { ev.preventDefault(); this.send(); } },
      this.filePick,
      h('button', { type: 'button', class: 'attach', title: 'Attach a file (the text typed goes with it as a caption)', 'aria-label': 'attach a file',
        testid: 'attach', onclick: () => this.filePick.click() }, 'Attach'),
      this.input, h('button', { type: 'submit', class: 'primary', testid: 'composer-send' }, 'Send'));
    clear(root).append(h('section', { class: 'chat', dataset: { key: this.key } }, head, this.list, composer));
    this.onChange = () => this.render();
    store.addEventListener('change', this.onChange);
    this.onVisible = () => this.markRead();
    document.addEventListener('visibilitychange', this.onVisible);
    this.render();
    const chat = store.chat(this.key);
    if (!chat.loaded) this.loadOlder(true);
    else requestAnimationFrame(() => { this.list.scrollTop = this.list.scrollHeight; this.markRead(); });
    this.input.focus();
  }

  unmount() {
    this.ctx.store.removeEventListener('change', this.onChange);
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  headerInfo() {
    const { store } = this.ctx;
    if (this.isGroup) {
      const group = store.groups.get(this.id);
      return { title: group ? group.name : store.conversation(this.key).title, sub: group ? `${group.member_count} members` : '', status: null };
    }
    const friend = store.friends.get(this.id);
    const status = friend ? friend.status : (store.conversations.get(this.key) || {}).status;
    const remark = friend && friend.remark ? friend.remark : null;
    return { title: remark || store.nameOf(this.id), sub: remark ? `${friend.username} · ${status || 'offline'}` : status || 'offline', status: status || 'offline' };
  }

  render() {
    const { store } = this.ctx;
    if (!store.me) return;
    const info = this.headerInfo();
    this.title.textContent = info.title;
    this.subtitle.textContent = info.sub;
    this.dot.replaceChildren(info.status ? presenceDot(info.status) : '');

    const list = this.list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const fromBottom = list.scrollHeight - list.scrollTop;
    const chat = store.chat(this.key);
    const rows = [];
    if (chat.loaded && chat.hasMore) {
      rows.push(h('button', { class: 'load-older', testid: 'load-older', onclick: () => this.loadOlder(false) }, 'Show older messages'));
    } else if (chat.loaded) {
      rows.push(h('p', { class: 'chat-start', testid: 'chat-start' }, 'This is the start of the conversation.'));
    }
    let lastDay = '';
    for (const item of store.chatItems(this.key)) {
      const day = new Date(item.timestamp).toDateString();
      if (day !== lastDay) { rows.push(h('p', { class: 'day' }, new Date(item.timestamp).toLocaleDateString())); lastDay = day; }
      rows.push(messageRow(this.ctx, this, item));
    }
    for (const p of this.pending) {
      let upload = null;
      if (p.file) {
        p.bar = h('progress', { max: p.file.size, value: p.sent || 0, testid: 'upload-progress' });
        p.percent = h('span', { class: 'hint', testid: 'upload-percent' }, percentText(p));
        upload = h('span', { class: 'file', testid: 'upload' }, h('span', { class: 'file-name' }, p.file.name), ` ${sizeText(p.file.size)} `, p.bar, p.percent);
      }
      rows.push(h('div', { class: 'msg mine pending', testid: 'message', dataset: { status: 'sending', mine: 'true' } },
        h('div', { class: 'bubble' }, upload, p.content ? h('span', { class: 'text', testid: 'message-text' }, p.content) : null,
          h('span', { class: 'meta' }, h('span', { class: 'status', testid: 'message-status' }, p.file ? 'uploading…' : 'sending…')))));
    }
    list.replaceChildren(...rows);
    if (this.keepOffset) { list.scrollTop = list.scrollHeight - fromBottom; this.keepOffset = false; }
    else if (atBottom || this.stickToBottom) { list.scrollTop = list.scrollHeight; this.stickToBottom = false; }
    this.markRead();
  }

  /** An image preview finished loading and grew the list: stay at the bottom if the person was there. */
  previewLoaded(img) {
    const list = this.list;
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 40 + img.offsetHeight) list.scrollTop = list.scrollHeight;
  }

  onScroll() {
    const chat = this.ctx.store.chat(this.key);
    if (this.list.scrollTop < LOAD_MARGIN_PX && chat.loaded && chat.hasMore && !this.loading) this.loadOlder(false);
  }

  async loadOlder(first) {
    const { conn, store } = this.ctx;
    const chat = store.chat(this.key);
    this.loading = true;
    try {
      const oldest = store.chatItems(this.key)[0];
      let data;
      if (this.isGroup) {
        const fields = { group_id: this.id, limit: HISTORY_PAGE };
        if (!first && oldest) fields.before_seq = oldest.seq;
        data = await conn.request('get_group_history', fields);
        for (const e of data.messages || []) store.putGroupEntry(e);
      } else {
        const fields = { chat_user_id: this.id, limit: HISTORY_PAGE };
        if (!first && oldest) fields.before_message_id = oldest.message_id;
        data = await conn.request('get_chat_history', fields);
        for (const m of data.messages || []) store.putMessage(m);
      }
      chat.hasMore = !!data.has_more;
      chat.loaded = true;
      if (first) this.stickToBottom = true; else this.keepOffset = true;
      store.changed();
    } catch (e) {
      showError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Read marks for what this open chat shows, when the page is visible. */
  markRead() {
    const { conn, store } = this.ctx;
    if (document.visibilityState !== 'visible' || !store.me || !this.ctx.session.signedIn) return;
    const chat = store.chat(this.key);
    const items = store.chatItems(this.key);
    if (this.isGroup) {
      const last = items.length ? items[items.length - 1].seq : 0;
      const group = store.groups.get(this.id);
      if (!last || (chat.readSent || 0) >= last || (group && group.read_seq >= last)) return;
      chat.readSent = last;
      store.markConversationRead(this.key);
      conn.request('mark_group_read', { group_id: this.id, up_to_seq: last })
        .then((d) => { if (group) group.read_seq = d.read_seq; })
        .catch(() => { chat.readSent = 0; });
      return;
    }
    let upTo = 0;
    for (const m of items) if (m.sender_id === this.id && m.status !== 'read' && m.message_id > upTo) upTo = m.message_id;
    if (!upTo || (chat.readSent || 0) >= upTo) { store.markConversationRead(this.key); return; }
    chat.readSent = upTo;
    for (const m of items) if (m.sender_id === this.id && m.message_id <= upTo) m.status = 'read';
    store.markConversationRead(this.key);
    conn.request('mark_read', { chat_user_id: this.id, up_to_message_id: upTo }).catch(() => { chat.readSent = 0; });
  }

  async send() {
    const content = this.input.value.trim();
    if (!content) return;
    const pending = { content };
    this.pending.push(pending);
    this.input.value = '';
    this.stickToBottom = true;
    this.render();
    try {
      await this.deliver({ type: 'text', content });
    } catch (e) {
      showError(e);
      if (!this.input.value) this.input.value = content;
    } finally {
      this.pending = this.pending.filter((p) => p !== pending);
      this.stickToBottom = true;
      this.render();
    }
  }

  /** Sends a message of `fields` (type, content, file_id) and puts the server's answer in the store. */
  async deliver(fields, file) {
    const { conn, store, session } = this.ctx;
    const clientMsgId = 'w' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    const content = fields.content;
    if (this.isGroup) {
      const d = await conn.request('send_group_message', { group_id: this.id, ...fields, client_msg_id: clientMsgId });
      store.putGroupEntry({ group_id: this.id, seq: d.seq, message_id: d.message_id, sender_id: store.me.user_id, type: fields.type,
        content, file, timestamp: d.timestamp, recalled: false });
      const group = store.groups.get(this.id);
      if (group) group.read_seq = Math.max(group.read_seq || 0, d.seq);
    } else {
      const d = await conn.request('send_message', { receiver_id: this.id, ...fields, client_msg_id: clientMsgId });
      store.putMessage({ message_id: d.message_id, sender_id: store.me.user_id, receiver_id: this.id, content, type: fields.type, file,
        timestamp: d.timestamp, status: d.status || 'sent', recalled: false });
      session.rememberLastId(d.message_id);
    }
  }

  /** Uploads a file (progress in its pending bubble) and sends it with the composer's text as caption. */
  async sendFile(file) {
    const content = this.input.value.trim();
    const pending = { content, file, sent: 0 };
    this.pending.push(pending);
    this.input.value = '';
    this.stickToBottom = true;
    this.render();
    try {
      // Progress moves the bar in place: a re-render of the whole chat per progress event would be wasted work.
      const fileId = await uploadFile(this.ctx.conn, file, (sent) => {
        pending.sent = sent;
        if (pending.bar) { pending.bar.value = sent; pending.percent.textContent = percentText(pending); }
      });
      const fields = { type: 'file', file_id: fileId };
      if (content) fields.content = content;
      await this.deliver(fields, { file_id: fileId, name: file.name, size: file.size, mime: file.type || 'application/octet-stream' });
    } catch (e) {
      showError(e);
      if (content && !this.input.value) this.input.value = content;
    } finally {
      this.pending = this.pending.filter((p) => p !== pending);
      this.stickToBottom = true;
      this.render();
    }
  }

  async recall(item) {
    const { conn, store } = this.ctx;
    try {
      if (this.isGroup) await conn.request('recall_group_message', { group_id: this.id, seq: item.seq });
      else await conn.request('recall_message', { message_id: item.message_id });
      store.recall(this.key, this.isGroup ? item.seq : item.message_id);
    } catch (e) {
      showError(e);
    }
  }
}

function percentText(p) {
  return ` ${p.file.size ? Math.floor(100 * (p.sent || 0) / p.file.size) : 0} %`;
}
