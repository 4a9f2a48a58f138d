// The /api/live WebSocket: resumes after a drop with the last token seen, never losing events.

export class LiveFeed {
  /** onEvent(message) for each case event; onState("open"|"lost") on (re)connection changes. */
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.token = null;
    this.delay = 500;
    this.socket = null;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const after = this.token === null ? "" : `?after=${this.token}`;
    const socket = new WebSocket(`${scheme}://${location.host}/api/live${after}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 500;
      this.onState("open");
    });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type !== "case_event") return;
      if (this.token !== null && data.token <= this.token) return;
      this.token = data.token;
      this.onEvent(data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.onState("lost", event.code);
      if (event.code === 4401 || event.code === 4403) {
        location.href = "/login?next=/"; // session gone, or a role that has no live feed
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    });
  }

  /** Drop the connection (tests, or a page going to the background); it reconnects itself. */
  drop() {
    this.socket?.close();
  }
}
