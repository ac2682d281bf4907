// One line of a chat: a bubble with its time and, on my own messages, the sent/delivered/read mark and the recall
// button; a group's membership changes as a centred note.
import { h, timeText } from '../dom.js';
import { fileUrl, isImage, sizeText } from '../files.js';
import { showError } from './toast.js';

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
    : item.type === 'file' && !item.content ? null
      : h('span', { class: 'text', testid: 'message-text' }, item.content ?? '');
  const file = !item.recalled && item.file ? fileBox(ctx, view, item.file) : null;
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
  h('div', { class: 'bubble' }, file, text, meta));
}

/**
 * A file in a message: name, size and a download link; an image also as a preview. The signed URL lives 10 minutes,
 * so the link asks for a fresh one when clicked instead of holding one in the page.
 */
function fileBox(ctx, view, file) {
  const { conn, store } = ctx;
  const link = h('a', { class: 'file-name', href: '#', download: file.name, testid: 'file-download', title: 'Download ' + file.name },
    file.name);
  link.addEventListener('click', async (ev) => {
    if (link.dataset.ready === 'true') { link.dataset.ready = ''; return; } // the browser follows the fresh URL
    ev.preventDefault();
    try {
      link.href = await fileUrl(conn, store, file.file_id);
      link.dataset.ready = 'true';
      link.click();
    } catch (e) {
      showError(e);
    }
  });
  const box = h('span', { class: 'file', testid: 'file', dataset: { fileId: file.file_id, name: file.name } },
    h('span', { class: 'file-icon', 'aria-hidden': 'true' }, isImage(file) ? 'image' : 'file'), link,
    h('span', { class: 'file-size', testid: 'file-size' }, ' ' + sizeText(file.size)));
  if (!isImage(file)) return box;
  return h('span', { class: 'file-block' }, preview(ctx, view, file), box);
}

/**
 * The preview of an image, one element per file for the life of the chat view: the chat re-draws on every change,
 * and a new element each time would load the image again and make the list jump.
 */
function preview(ctx, view, file) {
  view.previews = view.previews || new Map();
  let img = view.previews.get(file.file_id);
  if (img) return img;
  img = h('img', { class: 'preview', alt: file.name, testid: 'file-preview' });
  img.addEventListener('load', () => view.previewLoaded?.(img));
  view.previews.set(file.file_id, img);
  fileUrl(ctx.conn, ctx.store, file.file_id).then((url) => { img.src = url; })
    .catch(() => {
      // Kept in place of the image, so a re-draw does not ask again and again.
      const note = h('span', { class: 'hint' }, 'preview unavailable');
      img.replaceWith(note);
      view.previews.set(file.file_id, note);
    });
  return img;
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
