// Files (protocol.md §10, docs/files.md): a file is hashed in the page, announced with file_upload_init, sent in
// chunks over tus 1.0 to the public HTTP listener (resuming from the server's offset after any cut), then sent as a
// message of type 'file'. Downloads and image previews use the short-lived signed URL of get_file_url.

// After a failed chunk (connection cut, server restart) the upload asks HEAD for the offset and goes on; this many
// failures in a row give up, waiting 1 s, 2 s, 4 s, ... between them (a server restart takes a few seconds).
const MAX_RETRIES = 6;
const RETRY_FIRST_MS = 1000;
// get_file_url's URLs live 10 minutes (docs/files.md); a cached one is used for at most 8 so it never expires in use.
const URL_REUSE_MS = 8 * 60_000;

const TUS = '1.0.0';

/** Why an upload stopped, in words (errors.js speaks for the chat-protocol codes). */
export class UploadError extends Error {
  constructor(message) { super(message); this.name = 'UploadError'; }
}

export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export function isImage(file) {
  return !!file && /^image\/(png|jpeg|gif|webp|bmp|avif)$/i.test(file.mime || '');
}

async function sha256(buffer) {
  if (!crypto.subtle) {
    throw new UploadError('This page is not on a secure address (https:// or this computer), so the browser cannot check files; ask the server admin to turn on https.');
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
}

const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const base64 = (bytes) => btoa(String.fromCharCode(...bytes));

/**
 * Uploads `file` (a File) and returns its file_id. `onProgress(sent, total)` reports bytes the server holds.
 * The whole file is read once for its SHA-256 (file_upload_init needs it before the first byte); files are capped by
 * the server (files.max_bytes, 100 MiB by default), so this fits in memory.
 */
export async function uploadFile(conn, file, onProgress = () => {}) {
  if (file.size === 0) throw new UploadError('That file is empty; there is nothing to send.');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = hex(await sha256(bytes));
  const init = () => conn.request('file_upload_init', { name: file.name, size: file.size, sha256: digest, mime: mimeOf(file) });
  let upload = await init();
  for (let restarts = 0; ; restarts++) {
    if (upload.complete) { onProgress(file.size, file.size); return upload.file_id; }
    const fileId = await sendChunks(upload, bytes, onProgress);
    if (fileId) return fileId;
    // 404: the upload finished (its final answer was lost) or expired; init again answers 'complete' or a new one.
    if (restarts >= 1) throw new UploadError('The server lost this upload twice; please try again.');
    upload = await init();
  }
}

function mimeOf(file) {
  return /^[\x21-\x7e]+\/[\x21-\x7e]+$/.test(file.type || '') && file.type.length <= 127 ? file.type : 'application/octet-stream';
}

/** PATCHes from the server's offset to the end; returns the file id, or null when the upload is gone (404). */
async function sendChunks(upload, bytes, onProgress) {
  const auth = 'Bearer ' + upload.upload_token;
  let offset = upload.offset || 0;
  let failures = 0;
  onProgress(offset, bytes.length);
  while (true) {
    const end = Math.min(offset + upload.chunk_bytes, bytes.length);
    const chunk = bytes.subarray(offset, end);
    let answer;
    try {
      answer = await patch(upload.upload_url, auth, offset, chunk, await sha256(chunk), (n) => onProgress(offset + n, bytes.length));
    } catch (e) {
      if (e instanceof UploadError) throw e;
      answer = null; // the connection broke: ask where the server stands
    }
    if (answer && answer.status === 204) {
      failures = 0;
      offset = Number(answer.header('Upload-Offset'));
      onProgress(offset, bytes.length);
      const fileId = answer.header('Qkchat-File-Id');
      if (fileId) return Number(fileId);
      if (offset >= bytes.length) throw new UploadError('The server took every byte but did not say the file is stored; please try again.');
      continue;
    }
    if (answer && answer.status === 404) return null;
    if (answer && answer.status === 409) { offset = Number(answer.header('Upload-Offset')); continue; }
    if (answer) throw new UploadError(statusText(answer.status));
    if (++failures > MAX_RETRIES) throw new UploadError('The upload kept failing (the connection to the server broke); please try again.');
    await new Promise((r) => setTimeout(r, RETRY_FIRST_MS * 2 ** (failures - 1)));
    const head = await request('HEAD', upload.upload_url, { Authorization: auth, 'Tus-Resumable': TUS }).catch(() => null);
    if (head && head.status === 404) return null;
    if (head && head.status === 200) offset = Number(head.header('Upload-Offset'));
    else if (head) throw new UploadError(statusText(head.status));
  }
}

function statusText(status) {
  switch (status) {
    case 401: return 'The upload permission expired; please send the file again.';
    case 413: return 'That file is larger than the server accepts.';
    case 460: return 'The file changed or was damaged on the way (its checksum did not match); please send it again.';
    default: return `The server refused the upload (HTTP ${status}).`;
  }
}

function patch(url, auth, offset, chunk, digest, onSent) {
  return request('PATCH', url, {
    Authorization: auth,
    'Tus-Resumable': TUS,
    'Content-Type': 'application/offset+octet-stream',
    'Upload-Offset': String(offset),
    'Upload-Checksum': 'sha256 ' + base64(digest),
  }, chunk, onSent);
}

/** XMLHttpRequest rather than fetch: it reports upload progress. Rejects only when no answer came at all. */
function request(method, url, headers, body, onSent) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (onSent) xhr.upload.onprogress = (ev) => onSent(ev.loaded);
    xhr.onload = () => resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name) });
    xhr.onerror = () => reject(new Error('network'));
    xhr.onabort = () => reject(new Error('aborted'));
    xhr.send(body ?? null);
  });
}

/** A signed download URL for a file, reused while it is fresh. */
export async function fileUrl(conn, store, fileId) {
  const cached = store.fileUrls.get(fileId);
  if (cached && cached.until > Date.now()) return cached.url;
  const d = await conn.request('get_file_url', { file_id: fileId });
  store.fileUrls.set(fileId, { url: d.url, until: Date.now() + URL_REUSE_MS });
  return d.url;
}
