/* Switchboard web chat widget.
 *
 *   <script src="https://HOST/webchat/widget.js" data-bot="support"></script>
 *
 * Optional attributes: data-open="true" opens the chat at once;
 * data-title="…" names the panel. No framework, no build step. Every text
 * that comes from a user or a bot is set with textContent, never as HTML.
 * The protocol is described in the Go package runtime/webchat.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var bot = script.getAttribute("data-bot");
  if (!bot) { console.error("switchboard web chat: the script tag needs data-bot"); return; }
  var origin = new URL(script.src, location.href);
  var socketURL = (origin.protocol === "https:" ? "wss://" : "ws://") + origin.host + "/webchat/socket";
  var tokenKey = "switchboard.webchat." + bot + ".token";
  var title = script.getAttribute("data-title") || "Chat";

  // State.
  var ws = null, lastSeq = 0, seen = {}, pending = [], backoff = 500, greeted = false, visited = false;
  var ownIDs = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function safeURL(u) {
    try {
      var p = new URL(u, location.href);
      return p.protocol === "http:" || p.protocol === "https:" ? p.href : null;
    } catch (e) { return null; }
  }
  function newID() {
    if (window.crypto && crypto.randomUUID) return "c-" + crypto.randomUUID();
    return "c-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function store(k, v) { try { if (v == null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) {} }
  function load(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }

  // Styles, scoped by the sbw- prefix.
  var css = ".sbw-launch{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2456d3;color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25);z-index:2147483000}" +
    ".sbw-panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 120px);display:none;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px/1.4 system-ui,sans-serif;color:#222;z-index:2147483000;overflow:hidden}" +
    ".sbw-open{display:flex}.sbw-head{background:#2456d3;color:#fff;padding:12px 14px;font-weight:600;display:flex;justify-content:space-between}" +
    ".sbw-head button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}.sbw-status{font-weight:400;font-size:12px;opacity:.8;margin-left:8px}" +
    ".sbw-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}" +
    ".sbw-msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".sbw-user{align-self:flex-end;background:#2456d3;color:#fff}.sbw-bot,.sbw-agent,.sbw-system{align-self:flex-start;background:#f0f2f5}" +
    ".sbw-pending{opacity:.6}.sbw-img{max-width:100%;border-radius:8px;display:block;margin-top:4px}" +
    ".sbw-btns{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}.sbw-btn{border:1px solid #2456d3;background:#fff;color:#2456d3;border-radius:14px;padding:4px 10px;cursor:pointer;font:inherit;text-decoration:none}" +
    ".sbw-gallery{display:flex;gap:8px;overflow-x:auto;max-width:100%;align-self:stretch}.sbw-card{flex:0 0 200px;border:1px solid #ddd;border-radius:10px;padding:8px;background:#fff}" +
    ".sbw-card-title{font-weight:600}.sbw-card-sub{color:#666;font-size:12px}" +
    ".sbw-typing{align-self:flex-start;color:#888;font-style:italic;display:none}.sbw-typing.sbw-on{display:block}" +
    ".sbw-quick{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 8px}" +
    ".sbw-form{display:flex;border-top:1px solid #eee}.sbw-input{flex:1;border:0;padding:12px;font:inherit;outline:none}.sbw-send{border:0;background:none;color:#2456d3;font-weight:600;padding:0 14px;cursor:pointer}";
  var style = el("style"); style.textContent = css; document.head.appendChild(style);

  var launch = el("button", "sbw-launch"); launch.setAttribute("aria-label", "Open chat");
  // A speech bubble drawn as SVG: an emoji depends on the visitor's fonts.
  var svgNS = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNS, "svg");
  icon.setAttribute("viewBox", "0 0 24 24"); icon.setAttribute("width", "26"); icon.setAttribute("height", "26");
  var bubble = document.createElementNS(svgNS, "path");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  bubble.setAttribute("fill", "currentColor");
  icon.appendChild(bubble); launch.appendChild(icon);
  var panel = el("div", "sbw-panel"); panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", title);
  var head = el("div", "sbw-head"); var headTitle = el("span", null, title); var status = el("span", "sbw-status", "connecting…");
  headTitle.appendChild(status);
  var close = el("button", null, "×"); close.setAttribute("aria-label", "Close chat");
  head.appendChild(headTitle); head.appendChild(close);
  var log = el("div", "sbw-log"); log.setAttribute("aria-live", "polite");
  var typing = el("div", "sbw-typing", "typing…");
  var quick = el("div", "sbw-quick");
  var form = el("form", "sbw-form"); var input = el("input", "sbw-input"); input.placeholder = "Type a message"; input.maxLength = 4000;
  var send = el("button", "sbw-send", "Send"); send.type = "submit";
  // Files: uploaded with the visitor token, then sent as an attachment.
  var attach = el("button", "sbw-send", "+"); attach.type = "button"; attach.setAttribute("aria-label", "Send a file");
  var picker = el("input"); picker.type = "file"; picker.accept = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"; picker.style.display = "none";
  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    picker.value = "";
    if (file) upload(file);
  });
  form.appendChild(attach); form.appendChild(picker);
  form.appendChild(input); form.appendChild(send);
  log.appendChild(typing);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(quick); panel.appendChild(form);

  function mount() { document.body.appendChild(panel); document.body.appendChild(launch); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  function toggle(open) { panel.classList.toggle("sbw-open", open); if (open) input.focus(); }
  launch.addEventListener("click", function () { toggle(!panel.classList.contains("sbw-open")); });
  close.addEventListener("click", function () { toggle(false); });
  if (script.getAttribute("data-open") === "true") toggle(true);

  function scroll() { log.scrollTop = log.scrollHeight; }

  function buttons(list, container) {
    (list || []).forEach(function (b) {
      var url = b.url && safeURL(b.url);
      var btn;
      if (url) {
        btn = el("a", "sbw-btn", b.title); btn.href = url; btn.target = "_blank"; btn.rel = "noopener noreferrer";
      } else {
        btn = el("button", "sbw-btn", b.title); btn.type = "button";
        btn.addEventListener("click", function () { say(b.title, b.payload || b.title); });
      }
      container.appendChild(btn);
    });
  }

  function media(m, box, isImage) {
    var url = m && safeURL(m.url);
    if (!url) return;
    if (isImage || m.kind === "image" || /^image\//.test(m.mime || "")) {
      var img = el("img", "sbw-img"); img.src = url; img.alt = m.caption || m.name || ""; box.appendChild(img);
      if (m.caption) box.appendChild(el("div", null, m.caption));
      return;
    }
    var a = el("a", "sbw-btn", m.name || m.caption || url); a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
    a.setAttribute("download", "");
    box.appendChild(a);
  }

  // render shows one message frame (user, bot, agent).
  function render(f, isPending) {
    var author = f.author || "bot";
    var box = el("div", "sbw-msg sbw-" + (/^(user|bot|agent|system)$/.test(author) ? author : "bot"));
    if (isPending) box.classList.add("sbw-pending");
    if (f.id) box.dataset.id = f.id;
    if (f.text) box.appendChild(el("div", null, f.text));
    if (f.image) media(f.image, box, true);
    if (f.media) media(f.media, box);
    if (f.file) media(f.file, box);
    (f.attachments || []).forEach(function (a) { media(a, box); });
    if (f.buttons && f.buttons.length) { var bs = el("div", "sbw-btns"); buttons(f.buttons, bs); box.appendChild(bs); }
    log.insertBefore(box, typing);
    if (f.gallery && f.gallery.length) {
      var g = el("div", "sbw-gallery");
      f.gallery.forEach(function (c) {
        var card = el("div", "sbw-card");
        var src = c.image && safeURL(c.image);
        if (src) { var img = el("img", "sbw-img"); img.src = src; img.alt = c.title || ""; card.appendChild(img); }
        card.appendChild(el("div", "sbw-card-title", c.title));
        if (c.subtitle) card.appendChild(el("div", "sbw-card-sub", c.subtitle));
        if (c.buttons) { var cb = el("div", "sbw-btns"); buttons(c.buttons, cb); card.appendChild(cb); }
        g.appendChild(card);
      });
      log.insertBefore(g, typing);
    }
    if (author !== "user") {
      while (quick.firstChild) quick.removeChild(quick.firstChild);
      buttons(f.quick_replies, quick);
    }
    scroll();
    return box;
  }

  function onMessage(f) {
    if (!f.seq || seen[f.seq]) return;
    seen[f.seq] = true;
    if (f.seq > lastSeq) lastSeq = f.seq;
    if (f.author !== "user") typing.classList.remove("sbw-on");
    if (f.author === "user" && f.id && ownIDs[f.id]) {
      // Our own message, shown when it was sent: mark it stored.
      ownIDs[f.id].classList.remove("sbw-pending");
      return;
    }
    render(f, false);
  }

  function transmit(frame) {
    if (ws && ws.readyState === 1 && greeted) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  // say sends a user message; it is resent after a reconnect until acked.
  function say(text, payload) {
    text = String(text || "").trim();
    if (!text && !payload) return;
    var f = { type: "message", id: newID(), text: text };
    if (payload && payload !== text) f.payload = payload;
    ownIDs[f.id] = render({ author: "user", text: text, id: f.id }, true);
    while (quick.firstChild) quick.removeChild(quick.firstChild);
    pending.push(f);
    transmit(f);
  }

  // upload sends a file to the server, then the message that carries it.
  function upload(file) {
    var tok = load(tokenKey);
    if (!tok) { status.textContent = "connect first, then send the file"; return; }
    var body = new FormData(); body.append("file", file);
    status.textContent = "uploading " + file.name + "…";
    fetch(origin.origin + "/webchat/upload", { method: "POST", headers: { Authorization: "Bearer " + tok }, body: body })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = (res.j.error && res.j.error.message) || "the file was not accepted"; return; }
        status.textContent = "";
        var f = { type: "message", id: newID(), attachments: [res.j] };
        ownIDs[f.id] = render({ author: "user", attachments: [res.j], id: f.id }, true);
        pending.push(f);
        transmit(f);
      })
      .catch(function () { status.textContent = "the file could not be sent"; });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    say(input.value);
    input.value = "";
  });

  function connect() {
    status.textContent = "connecting…";
    greeted = false;
    try { ws = new WebSocket(socketURL); } catch (e) { retry(); return; }
    ws.onopen = function () {
      var hello = { type: "hello", bot: bot, after: lastSeq };
      var tok = load(tokenKey);
      if (tok) hello.token = tok;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      switch (f.type) {
        case "welcome":
          store(tokenKey, f.token);
          greeted = true; backoff = 500; status.textContent = "";
          pending.forEach(function (p) { ws.send(JSON.stringify(p)); });
          if (!visited) {
            visited = true;
            transmit({ type: "event", name: "page_visit", data: { url: location.pathname + location.search, title: document.title, referrer: document.referrer } });
          }
          break;
        case "message": onMessage(f); break;
        case "typing": typing.classList.add("sbw-on"); scroll(); break;
        case "ack":
          pending = pending.filter(function (p) { return p.id !== f.id; });
          if (ownIDs[f.id]) ownIDs[f.id].classList.remove("sbw-pending");
          break;
        case "error":
          if (f.code === "invalid_token") store(tokenKey, null);
          if (f.code === "rate_limited" || f.code === "unavailable") setTimeout(function () { pending.forEach(transmit); }, 2000);
          break;
      }
    };
    ws.onclose = function () { ws = null; greeted = false; typing.classList.remove("sbw-on"); retry(); };
  }

  function retry() {
    status.textContent = "reconnecting…";
    var wait = backoff + Math.random() * backoff;
    backoff = Math.min(backoff * 2, 30000);
    setTimeout(connect, wait);
  }

  connect();
})();
