// The business inbox stays current without a reload: every few seconds, while the
// agent is not typing, the page's lists are fetched again and swapped in.
const root = document.getElementById("inbox");
if (root) {
  const every = +root.dataset.refresh || 5000;
  const ids = ["conversations", "messages"];
  const busy = () => {
    const a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") && a.value;
  };
  const refresh = async () => {
    if (document.visibilityState !== "visible" || busy()) return;
    const resp = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const id of ids) {
      const now = document.getElementById(id);
      const next = doc.getElementById(id);
      if (now && next && now.innerHTML !== next.innerHTML) now.replaceWith(next);
    }
    for (const sel of [".side", ".chat-head"]) {
      const now = document.querySelector(sel);
      const next = doc.querySelector(sel);
      if (now && next && !now.contains(document.activeElement) && now.innerHTML !== next.innerHTML) {
        now.replaceWith(next);
      }
    }
  };
  const times = () => {
    for (const t of document.querySelectorAll("time[data-ts]")) {
      t.textContent = new Date(+t.dataset.ts).toLocaleTimeString(document.documentElement.lang || [], {
        hour: "2-digit",
        minute: "2-digit",
      });
    }
  };
  times();
  setInterval(() => refresh().then(times), every);
  document.getElementById("messages")?.lastElementChild?.scrollIntoView({ block: "end" });
}
