// Progressive enhancement only: while a send runs, the Suivi page refreshes its counters every 3 s.
(function () {
  var zone = document.querySelector("[data-refresh]");
  if (!zone || !window.fetch || !window.DOMParser) return;
  function tick() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("#suivi");
        if (!next) return;
        zone.innerHTML = next.innerHTML;
        if (next.hasAttribute("data-refresh")) setTimeout(tick, 3000);
        else zone.removeAttribute("data-refresh");
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, 3000);
})();
