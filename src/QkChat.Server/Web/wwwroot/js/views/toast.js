// Short notes at the top of the screen: errors in words (errors.js) and news (a friend request came in).
import { h } from '../dom.js';
import { describeError } from '../errors.js';

// Long enough to read a sentence twice; errors stay until dismissed or replaced by newer ones (at most 3 shown).
const NOTICE_MS = 6000;
const MAX_SHOWN = 3;

function host() {
  return document.getElementById('toasts');
}

function show(text, kind) {
  const box = host();
  const el = h('div', { class: 'toast toast-' + kind, role: kind === 'error' ? 'alert' : 'status', testid: kind === 'error' ? 'error' : 'notice' },
    h('span', { class: 'toast-text' }, text),
    h('button', { class: 'toast-close', 'aria-label': 'dismiss', onclick: () => el.remove() }, '×'));
  box.append(el);
  while (box.children.length > MAX_SHOWN) box.firstChild.remove();
  if (kind !== 'error') setTimeout(() => el.remove(), NOTICE_MS);
  return el;
}

export function showError(error) {
  return show(describeError(error), 'error');
}

export function showErrorText(text) {
  return show(text, 'error');
}

export function showNotice(text) {
  return show(text, 'notice');
}

export function clearToasts() {
  const box = host();
  while (box.firstChild) box.firstChild.remove();
}
