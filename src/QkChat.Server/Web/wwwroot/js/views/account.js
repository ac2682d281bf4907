// My account: change the password. The server keeps this device signed in and signs out every other device of
// mine (protocol.md §2, change_password), which the page says, since the person may not expect it.
import { h, clear } from '../dom.js';
import { showError, showNotice } from './toast.js';

// docs/accounts.md: passwords are at least 8 characters (the server checks too; this only saves a round trip).
const MIN_PASSWORD = 8;

export class AccountView {
  constructor(ctx) {
    this.ctx = ctx;
  }

  mount(root) {
    const { store } = this.ctx;
    const old = h('input', { type: 'password', autocomplete: 'current-password', required: true, testid: 'old-password' });
    const fresh = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_PASSWORD, testid: 'new-password' });
    const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, testid: 'new-password-again' });
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'change-password' }, 'Change password');
    const form = h('form', {
      class: 'stack',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (fresh.value.length < MIN_PASSWORD) { showError({ code: 'INVALID_ARGUMENT', message: `the new password needs at least ${MIN_PASSWORD} characters` }); return; }
        if (fresh.value !== again.value) { showError({ code: 'INVALID_ARGUMENT', message: 'the two new passwords differ' }); return; }
        submit.disabled = true;
        try {
          await this.ctx.conn.request('change_password', { old_password: old.value, new_password: fresh.value });
          form.reset();
          showNotice('Password changed. Your other devices were signed out; this one stays signed in.');
        } catch (e) {
          showError(e);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('label', {}, 'Current password', old),
    h('label', {}, 'New password (at least 8 characters)', fresh),
    h('label', {}, 'New password again', again),
    submit);
    clear(root).append(h('section', { class: 'account' },
      h('header', { class: 'chat-head' },
        h('a', { class: 'back', href: '#/chats', 'aria-label': 'back to chats', testid: 'back' }, '‹'),
        h('div', { class: 'chat-names' }, h('h2', { class: 'chat-title', testid: 'account-title' }, 'My account'),
          h('span', { class: 'chat-sub' }, store.me ? `${store.me.username}${store.me.email ? ' · ' + store.me.email : ''}` : ''))),
      h('div', { class: 'account-body' }, h('h3', {}, 'Change password'), form)));
  }

  unmount() {}
}
