// The live part of a conversation page: one WebSocket (protocol v1 section 3,
// authenticated by the session cookie), new messages, ticks, typing and sending.
// The page works from its server-rendered history; this only adds what is live.
const chat = document.getElementById("chat");
if (chat) {
  const chatId = chat.dataset.chatId;
  const me = chat.dataset.me;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const status = document.getElementById("status");
  const typing = document.getElementById("typing");
  const L = chat.dataset;
  const cursorKey = "sb_cursor:" + me;
  let ws = null;
  let synced = false;
  let backoff = 500;
  let lastTyping = 0;
  let typingTimer = null;
  const pending = new Map(); // client_id -> <li>
  const group = chat.dataset.group === "true";
  let replyTo = null; // the id of the message being answered
  const replying = document.getElementById("replying");
  const replyingText = document.getElementById("replying-text");
  // The other side's receipt watermarks, per chat, kept in the browser with the
  // stream cursor: a page resumes the stream where the last one stopped (not from
  // the start) and still shows every tick right.
  const marksKey = "sb_marks:" + me;
  const allMarks = () => {
    try {
      return JSON.parse(localStorage.getItem(marksKey) || "{}");
    } catch {
      return {};
    }
  };
  const saved = allMarks()[chatId] || {};
  const marks = { delivered: saved.delivered || 0, read: saved.read || 0 };
  const noteReceipt = (f) => {
    const all = allMarks();
    const m = all[f.chat_id] || { delivered: 0, read: 0 };
    if (f.status === "read") m.read = Math.max(m.read, f.up_to_seq);
    m.delivered = Math.max(m.delivered, f.up_to_seq);
    all[f.chat_id] = m;
    localStorage.setItem(marksKey, JSON.stringify(all));
  };

  const localTime = (ms) =>
    new Date(ms).toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" });

  const maxSeq = () => {
    let m = 0;
    for (const li of list.querySelectorAll("li[data-seq]")) m = Math.max(m, +li.dataset.seq);
    return m;
  };

  const orderStatus = {
    received: L.lReceived,
    confirmed: L.lConfirmed,
    ready: L.lReady,
    delivered: L.lDeliveredOrder,
    cancelled: L.lCancelled,
  };
  const bodyText = (b) => {
    if (typeof b.text === "string") return b.text;
    if (b.caption) return b.caption;
    if (typeof b.template?.body === "string") return b.template.body;
    if (typeof b.interactive?.body === "string") return b.interactive.body;
    if (b.order) return `🛒 ${L.lOrder}: ${b.order.item_count} × · ${b.order.total?.display || ""}`;
    if (b.order_status) {
      const st = b.order_status.status;
      return `📦 ${L.lOrderStatus}: ${orderStatus[st] || st}`;
    }
    if (b.product) return `🛍 ${b.product.name} · ${b.product.price?.display || ""}`;
    return L.lMessage;
  };

  const bubble = (m, mine) => {
    const li = document.createElement("li");
    li.className = "msg " + (mine ? "mine" : "theirs");
    if (m.seq) li.dataset.seq = m.seq;
    if (m.id) li.dataset.id = m.id;
    const div = document.createElement("div");
    div.className = "bubble";
    const body = m.body || {};
    if (group && !mine && m.from) {
      const who = document.createElement("p");
      who.className = "sender";
      who.textContent = m.from_business?.name || "+" + m.from;
      div.append(who);
    }
    if (m.reply_to) {
      const q = document.createElement("p");
      q.className = "reply";
      q.textContent = quoteOf(m.reply_to);
      div.append(q);
    }
    if (body.media_id) div.append(attachment(body));
    const p = document.createElement("p");
    p.className = "text";
    p.textContent = body.media_id ? body.caption || "" : bodyText(body);
    const meta = document.createElement("p");
    meta.className = "meta";
    const time = document.createElement("time");
    time.textContent = localTime(m.ts || Date.now());
    meta.append(time);
    if (mine) {
      const t = document.createElement("span");
      t.className = "ticks";
      meta.append(" ", t);
      setTicks(t, m.seq ? "sent" : "pending");
    }
    if (m.id || mine) {
      const r = document.createElement("button");
      r.type = "button";
      r.className = "link reply-btn";
      r.textContent = L.lReply;
      if (m.id) r.dataset.reply = m.id;
      meta.append(" ", r);
    }
    div.append(p, meta);
    li.append(div);
    document.getElementById("empty")?.remove();
    list.append(li);
    li.scrollIntoView({ block: "end" });
    return li;
  };

  // A live attachment: its thumbnail if it has one (photos, videos), else a link.
  const attachment = (body) => {
    const href = "/app/media/" + encodeURIComponent(body.media_id);
    const a = document.createElement("a");
    a.href = href;
    const img = document.createElement("img");
    img.alt = body.caption || L.lMessage;
    img.loading = "lazy";
    img.src = href + "/thumbnail";
    img.onerror = () => {
      img.remove();
      a.className = "file";
      a.download = body.filename || "";
      a.textContent = "📄 " + (body.filename || L.lMessage);
    };
    a.className = "viewer";
    a.append(img);
    return a;
  };

  // The text of a message on the page, shortened, for a reply's quote.
  const quoteOf = (id) => {
    const li = list.querySelector(`li[data-id="${CSS.escape(id)}"] .text`);
    const text = li ? li.textContent : "";
    return text.length > 80 ? text.slice(0, 80) + "…" : text || L.lMessage;
  };

  const setTicks = (el, state) => {
    el.dataset.state = state;
    el.textContent = state === "pending" ? "🕓" : state === "sent" ? "✓" : "✓✓";
    el.setAttribute(
      "aria-label",
      state === "read" ? L.lRead : state === "delivered" ? L.lDelivered : L.lSent,
    );
  };

  const refreshTicks = () => {
    for (const li of list.querySelectorAll("li.mine[data-seq]")) {
      const seq = +li.dataset.seq;
      const t = li.querySelector(".ticks");
      if (!t) continue;
      setTicks(t, seq <= marks.read ? "read" : seq <= marks.delivered ? "delivered" : "sent");
    }
  };

  const readUpTo = () => {
    if (!synced || document.visibilityState !== "visible") return;
    let top = 0;
    for (const li of list.querySelectorAll("li.theirs[data-seq]")) top = Math.max(top, +li.dataset.seq);
    if (top > 0) send({ type: "receipt", chat_id: chatId, up_to_seq: top, status: "read" });
  };

  const send = (frame) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  const onFrame = (f) => {
    if (typeof f.inbox_seq === "number") {
      const c = +(localStorage.getItem(cursorKey) || 0);
      if (f.inbox_seq > c) localStorage.setItem(cursorKey, String(f.inbox_seq));
    }
    switch (f.type) {
      case "synced":
        synced = true;
        status.textContent = "";
        refreshTicks();
        readUpTo();
        break;
      case "ack": {
        const li = pending.get(f.client_id);
        if (li) {
          pending.delete(f.client_id);
          li.dataset.seq = f.seq;
          li.dataset.id = f.id;
          const r = li.querySelector(".reply-btn");
          if (r) r.dataset.reply = f.id;
          refreshTicks();
        }
        break;
      }
      case "message":
        if (f.chat_id !== chatId) break;
        if (list.querySelector(`li[data-id="${CSS.escape(f.id)}"]`)) break;
        if (f.seq <= maxSeq() && f.from !== me) break;
        bubble(f, f.from === me);
        refreshTicks();
        if (f.from !== me) {
          typing.textContent = "";
          readUpTo();
        }
        break;
      case "receipt":
        if (f.user_id === me) break;
        noteReceipt(f);
        if (f.chat_id !== chatId) break;
        if (f.status === "read") marks.read = Math.max(marks.read, f.up_to_seq);
        marks.delivered = Math.max(marks.delivered, f.up_to_seq);
        refreshTicks();
        break;
      case "typing":
        if (f.chat_id !== chatId || f.user_id === me) break;
        typing.textContent = L.lTyping;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => (typing.textContent = ""), 4000);
        break;
    }
  };

  const connect = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/v1/ws`);
    ws.onopen = () => {
      backoff = 500;
      synced = false;
      send({ type: "sync", after: +(localStorage.getItem(cursorKey) || 0) });
    };
    ws.onmessage = (e) => {
      try {
        onFrame(JSON.parse(e.data));
      } catch (err) {
        console.warn("bad frame", err);
      }
    };
    ws.onclose = () => {
      synced = false;
      status.textContent = L.lTyping ? status.textContent : "";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const clientId = "web-" + crypto.randomUUID();
    const frame = { type: "send", client_id: clientId, chat_id: chatId, body: { text } };
    if (replyTo) frame.reply_to = replyTo;
    const li = bubble({ body: { text }, ts: Date.now(), reply_to: replyTo }, true);
    pending.set(clientId, li);
    send(frame);
    setReply(null);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTyping > 3000) {
      lastTyping = now;
      send({ type: "typing", chat_id: chatId });
    }
  });
  // Attach: upload through the web app (session cookie + CSRF header), then send.
  const file = document.getElementById("file");
  file?.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    const resp = await fetch("/app/upload", {
      method: "POST",
      headers: { "X-CSRF-Token": chat.dataset.csrf, "Content-Type": f.type || "application/octet-stream" },
      body: f,
    });
    file.value = "";
    if (!resp.ok) {
      status.textContent = (await resp.json().catch(() => ({})))?.error?.message || resp.statusText;
      return;
    }
    const media = await resp.json();
    const caption = input.value.trim();
    const body = { media_id: media.media_id };
    if (caption) body.caption = caption;
    if (!/^(image|video|audio)\//.test(media.mime_type || "")) body.filename = f.name;
    const clientId = "web-" + crypto.randomUUID();
    pending.set(clientId, bubble({ body, ts: Date.now() }, true));
    send({ type: "send", client_id: clientId, chat_id: chatId, body });
    input.value = "";
  });
  // Replying to a message: its Reply button, then the composer; Cancel undoes it.
  const setReply = (id) => {
    replyTo = id;
    if (!replying) return;
    replying.hidden = !id;
    if (id) replyingText.textContent = `${L.lReplying} ${quoteOf(id)}`;
  };
  list.addEventListener("click", (e) => {
    const b = e.target.closest("button.reply-btn");
    if (!b || !b.dataset.reply) return;
    setReply(b.dataset.reply);
    input.focus();
  });
  document.getElementById("reply-cancel")?.addEventListener("click", () => setReply(null));
  // The photo viewer: a modal dialog (Escape closes it).
  const viewer = document.getElementById("viewer");
  list.addEventListener("click", (e) => {
    const a = e.target.closest("a.viewer");
    if (!a || !viewer) return;
    e.preventDefault();
    document.getElementById("viewer-img").src = a.href;
    viewer.showModal();
  });
  document.addEventListener("visibilitychange", readUpTo);
  for (const t of list.querySelectorAll("time[data-ts]")) t.textContent = localTime(+t.dataset.ts);
  list.lastElementChild?.scrollIntoView({ block: "end" });
  refreshTicks();
  connect();
}
