// The one WebSocket to the server (protocol.md §11): one JSON object per text message, requests matched to their
// responses by request_id, pushes handed to listeners, a heartbeat so the server's idle rule never fires, and
// reconnection with backoff when the socket drops.

// §4: the server closes a logged-in connection that is silent for 60 s and tells clients to beat every 30 s.
const HEARTBEAT_MS = 30_000;
// A request the server never answers (the socket died under it) fails after this long instead of hanging a view.
const REQUEST_TIMEOUT_MS = 20_000;
// Reconnect backoff: quick first retry (a server restart takes a second or two), capped so a long outage costs
// at most one attempt every 15 s.
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 15_000;

export class ServerError extends Error {
  constructor(response) {
    super(response.message || response.code);
    this.code = response.code;
    this.action = response.action;
    this.data = response.data;
  }
}

export class Connection {
  constructor(url) {
    this.url = url;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map();
    this.pushListeners = new Set();
    this.stateListeners = new Set();
    this.state = 'closed';
    this.wanted = false;
    this.backoff = RECONNECT_FIRST_MS;
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
    this.openWaiters = [];
  }

  onPush(fn) { this.pushListeners.add(fn); return () => this.pushListeners.delete(fn); }
  onState(fn) { this.stateListeners.add(fn); return () => this.stateListeners.delete(fn); }

  setState(state) {
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }

  /** Opens the socket (and keeps reopening it after drops until close()). Resolves once it is open. */
  start() {
    this.wanted = true;
    if (this.state === 'open') return Promise.resolve();
    const opened = new Promise((resolve) => this.openWaiters.push(resolve));
    if (this.state !== 'connecting') this.connect();
    return opened;
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    this.setState('connecting');
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = RECONNECT_FIRST_MS;
      this.setState('open');
      this.startHeartbeat();
      const waiters = this.openWaiters.splice(0);
      for (const w of waiters) w();
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopHeartbeat();
      this.failPending('the connection to the server was lost');
      this.setState('closed');
      if (this.wanted) this.scheduleReconnect();
    };
    socket.onerror = () => { /* onclose follows and does the work */ };
  }

  scheduleReconnect() {
    this.setState('waiting');
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Drops the socket on purpose (logout); no reconnect. */
  close() {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
    this.failPending('signed out');
    this.setState('closed');
  }

  /** Sends one request; resolves with the response's data on OK, rejects with a ServerError otherwise. */
  request(action, fields = {}) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new ServerError({ code: 'OFFLINE', action, message: 'not connected to the server' }));
        return;
      }
      const requestId = String(this.nextId++);
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ServerError({ code: 'TIMEOUT', action, message: 'the server did not answer in time' }));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer, action });
      this.socket.send(JSON.stringify({ action, request_id: requestId, ...fields }));
    });
  }

  receive(text) {
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch {
      console.warn('qkchat: a message from the server was not JSON');
      return;
    }
    if (envelope.push) {
      for (const fn of this.pushListeners) fn(envelope.action, envelope.data || {});
      return;
    }
    const waiting = this.pending.get(envelope.request_id);
    if (!waiting) return;
    this.pending.delete(envelope.request_id);
    clearTimeout(waiting.timer);
    if (envelope.success) waiting.resolve(envelope.data || {});
    else waiting.reject(new ServerError(envelope));
  }

  failPending(why) {
    for (const [, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new ServerError({ code: 'OFFLINE', action: waiting.action, message: why }));
    }
    this.pending.clear();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      this.request('heartbeat').catch(() => { /* a dead socket shows through onclose */ });
    }, HEARTBEAT_MS);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

/** ws:// or wss:// to /ws of the server that served this page. */
export function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
