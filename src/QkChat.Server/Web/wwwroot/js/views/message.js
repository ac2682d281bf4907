// One line of a chat: a bubble with its time and, on my own messages, the sent/delivered/read mark and the recall
// button; a group's membership changes as a centred note.
import { h, timeText } from '../dom.js';

// protocol.md §5: only the sender recalls, within 120 s of the message's timestamp.
const RECALL_WINDOW_MS = 120_000;

const MARKS = { sent: '✓ sent', delivered: '✓✓ delivered', read: '✓✓ read' };

export function messageRow(ctx, view, item) {
  const { store } = ctx;
  if (item.type === 'system') {
    return h('p', { class: 'system', testid: 'system-entry', dataset: { seq: item.seq } }, systemText(store, item));
  }
  const mine = item.sender_id === store.me.user_id;
  const id = view.isGroup ? item.seq : item.message_id;
  const text = item.recalled
    ? h('span', { class: 'text recalled', testid: 'message-text' }, mine ? 'You recalled a message' : 'This message was recalled')
    : h('span', { class: 'text', testid: 'message-text' }, item.content ?? '');
  const meta = h('span', { class: 'meta' }, h('time', {}, timeText(item.timestamp)));
  if (mine && !view.isGroup && !item.recalled) {
    meta.append(h('span', { class: 'status status-' + item.status, testid: 'message-status' }, MARKS[item.status] || item.status));
  }
  if (!item.recalled && canRecall(store, view, item, mine)) {
    meta.append(h('button', { class: 'link recall', testid: 'recall', title: 'Recall this message for everyone',
      onclick: () => view.recall(item) }, 'recall'));
  }
  return h('div', {
    class: 'msg' + (mine ? ' mine' : ''), testid: 'message',
    dataset: { id, mine: String(mine), status: mine && !view.isGroup ? item.status : '', recalled: String(!!item.recalled) },
  },
  view.isGroup && !mine ? h('span', { class: 'sender', testid: 'message-sender' }, store.nameOf(item.sender_id)) : null,
  h('div', { class: 'bubble' }, text, meta));
}

function canRecall(store, view, item, mine) {
  if (mine && Date.now() - item.timestamp < RECALL_WINDOW_MS) return true;
  if (!view.isGroup) return false;
  const group = store.groups.get(view.id);
  return !!group && (group.role === 'owner' || group.role === 'admin');
}

function names(store, ids) {
  return (ids || []).map((id) => store.nameOf(id)).join(', ');
}

export function systemText(store, e) {
  const actor = store.nameOf(e.actor_id ?? e.sender_id);
  switch (e.event) {
    case 'created': return `${actor} created the group`;
    case 'member_added': return `${actor} added ${names(store, e.user_ids)}`;
    case 'member_removed': return `${actor} removed ${names(store, e.user_ids)}`;
    case 'member_left': return `${names(store, e.user_ids)} left the group`;
    case 'role_changed': return `${actor} changed the role of ${names(store, e.user_ids)}${e.role ? ' to ' + e.role : ''}`;
    case 'owner_transferred': return `${actor} handed the group to ${names(store, e.user_ids)}`;
    case 'renamed': return `${actor} renamed the group${e.name ? ' to ' + e.name : ''}`;
    default: return `${actor}: ${e.event || 'group changed'}`;
  }
}
