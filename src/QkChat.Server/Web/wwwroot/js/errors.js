// Every error code the server can answer (protocol.md §3), in words a person understands. The server's own
// message is added where it says something the code alone does not (which field, which user).

const SENTENCES = {
  BAD_JSON: 'The app sent something the server could not read. Reload the page and try again.',
  BAD_FRAME: 'The app sent a message the server could not read. Reload the page and try again.',
  FRAME_TOO_LARGE: 'That is too long to send in one go.',
  UNKNOWN_ACTION: 'The server does not know this request; it may run an older version.',
  INVALID_ARGUMENT: 'Please check what you typed.',
  UNAUTHENTICATED: 'You are not signed in. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'That could not be found (it may have been removed).',
  ALREADY_EXISTS: 'That already exists.',
  INVALID_CREDENTIALS: 'Wrong username or password.',
  INVALID_CODE: 'That verification code is not right. Check the e-mail and try again.',
  CODE_EXPIRED: 'That verification code has expired. Ask for a new one.',
  TOKEN_INVALID: 'Your sign-in has expired or was revoked. Please sign in again.',
  NOT_FRIENDS: 'You can only do that with your friends.',
  RECALL_WINDOW_EXPIRED: 'Messages can only be recalled within 2 minutes of sending.',
  RATE_LIMITED: 'Too many attempts. Please wait a moment and try again.',
  SERVER_BUSY: 'The server is busy right now. Please try again in a moment.',
  UNAVAILABLE: 'The server cannot reach its storage right now; nothing was changed. Please try again soon.',
  INTERNAL: 'Something went wrong on the server. Please try again.',
  // Not server codes: what the connection itself reports.
  OFFLINE: 'You are offline; reconnecting to the server.',
  TIMEOUT: 'The server did not answer in time. Please try again.',
};

// Codes whose server message adds something a person needs (the field, the user, the limit).
const WITH_DETAIL = new Set(['INVALID_ARGUMENT', 'ALREADY_EXISTS', 'FORBIDDEN', 'NOT_FRIENDS', 'NOT_FOUND']);

export function describeError(error) {
  const code = error && error.code;
  // Upload failures (files.js) are already sentences for people.
  if (!code && error && error.name === 'UploadError') return error.message;
  if (!code) return 'Something went wrong: ' + (error && error.message ? error.message : String(error));
  let sentence = SENTENCES[code] || `The server refused this (${code}).`;
  if (code === 'RATE_LIMITED' && error.data && error.data.retry_after_ms) {
    sentence += ` Try again in ${Math.ceil(error.data.retry_after_ms / 1000)} s.`;
  } else if (WITH_DETAIL.has(code) && error.message && error.message !== code) {
    sentence += ` (${error.message})`;
  }
  return sentence;
}

export const knownErrorCodes = Object.keys(SENTENCES);
