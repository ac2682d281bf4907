// Sign in and sign up (with the code the server e-mails). Errors show under the form in words.
import { h, clear } from '../dom.js';
import { describeError } from '../errors.js';

export function renderAuth(root, session, mode = 'login') {
  clear(root);
  const error = h('p', { class: 'form-error', testid: 'auth-error', role: 'alert', hidden: true });
  const fail = (e) => { error.textContent = describeError(e); error.hidden = false; };
  const ok = (text) => { error.hidden = true; info.textContent = text; info.hidden = !text; };
  const info = h('p', { class: 'form-info', testid: 'auth-info', hidden: true });

  const card = mode === 'login' ? loginForm(session, fail, ok, root) : signupForm(session, fail, ok, root);
  root.append(h('div', { class: 'auth-card' },
    h('h1', { class: 'brand' }, 'QkChat'),
    card, info, error));
}

function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function busy(button, promise) {
  button.disabled = true;
  return promise.finally(() => { button.disabled = false; });
}

function loginForm(session, fail, ok, root) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, testid: 'login-username' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, testid: 'login-password' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'login-submit' }, 'Sign in');
  const form = h('form', {
    class: 'auth-form',
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(submit, session.login(username.value.trim(), password.value)).catch(fail);
    },
  },
  h('h2', {}, 'Sign in'),
  field('Username or e-mail', username),
  field('Password', password),
  submit,
  h('p', { class: 'switch' }, 'New here? ',
    h('a', { href: '#', testid: 'show-signup', onclick: (ev) => { ev.preventDefault(); renderAuth(root, session, 'signup'); } }, 'Create an account')));
  return form;
}

function signupForm(session, fail, ok, root) {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32,
    pattern: '[A-Za-z0-9_]+', title: '3-32 letters, digits or _', testid: 'signup-username' });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, testid: 'signup-email' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128, testid: 'signup-password' });
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, pattern: '[0-9]{6}',
    maxlength: 6, title: 'the 6 digits from the e-mail', testid: 'signup-code' });
  const sendCode = h('button', {
    type: 'button', testid: 'signup-send-code',
    onclick: () => {
      if (!email.reportValidity()) return;
      busy(sendCode, session.sendCode(email.value.trim()))
        .then(() => { ok(`We e-mailed a 6-digit code to ${email.value.trim()}. It is valid for 5 minutes.`); code.focus(); })
        .catch(fail);
    },
  }, 'E-mail me a code');
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'signup-submit' }, 'Create account');
  return h('form', {
    class: 'auth-form',
    onsubmit: (ev) => {
      ev.preventDefault();
      const name = username.value.trim();
      busy(submit, session.register(name, email.value.trim(), password.value, code.value.trim())
        .then(() => session.login(name, password.value))).catch(fail);
    },
  },
  h('h2', {}, 'Create an account'),
  field('Username', username),
  h('div', { class: 'field-row' }, field('E-mail', email), sendCode),
  field('Code from the e-mail', code),
  field('Password (at least 8 characters)', password),
  submit,
  h('p', { class: 'switch' }, 'Have an account? ',
    h('a', { href: '#', testid: 'show-login', onclick: (ev) => { ev.preventDefault(); renderAuth(root, session, 'login'); } }, 'Sign in')));
}
