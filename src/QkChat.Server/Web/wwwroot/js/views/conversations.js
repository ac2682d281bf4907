// The chat list: one-to-one chats and groups, most recent first, with unread counts and presence dots.
import { h, timeText, presenceDot } from '../dom.js';
import { systemText } from './message.js';

export function renderConversations(ctx, current) {
  const { store } = ctx;
  const list = store.conversationList();
  if (!list.length) {
    return h('p', { class: 'empty', testid: 'no-conversations' }, 'No chats yet. Add a friend under Friends, or create a group.');
  }
  return h('ul', { class: 'items', testid: 'conversations' }, list.map((c) => {
    const href = c.kind === 'group' ? `#/chat/g/${c.id}` : `#/chat/u/${c.id}`;
    const title = c.kind === 'group' ? ((store.groups.get(c.id) || {}).name || c.title) : store.nameOf(c.id);
    const status = c.kind === 'direct' ? ((store.friends.get(c.id) || {}).status || c.status || 'offline') : null;
    return h('li', {},
      h('a', { class: 'item' + (c.key === current ? ' current' : ''), href, testid: 'conversation', dataset: { key: c.key, title } },
        c.kind === 'group' ? h('span', { class: 'avatar group' }, '#') : presenceDot(status),
        h('span', { class: 'item-main' },
          h('span', { class: 'item-title' }, title),
          h('span', { class: 'item-sub' }, preview(store, c))),
        h('span', { class: 'item-side' },
          c.last ? h('time', {}, timeText(c.last.timestamp)) : null,
          c.unread ? h('span', { class: 'badge', testid: 'unread' }, String(c.unread)) : null)));
  }));
}

function preview(store, c) {
  const m = c.last;
  if (!m) return c.kind === 'group' ? 'group' : '';
  if (m.type === 'system') return systemText(store, m);
  if (m.recalled) return 'message recalled';
  const who = m.sender_id === store.me.user_id ? 'You: ' : c.kind === 'group' ? store.nameOf(m.sender_id) + ': ' : '';
  if (m.file) return who + 'file ' + m.file.name + (m.content ? ' · ' + m.content : '');
  return who + (m.content ?? '');
}
