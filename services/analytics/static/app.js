// Dashboard of the analytics service: fetches the statistics API and draws inline SVG charts.
// Hand-written, no dependencies; every asset is served by analytics itself.
(function () {
  "use strict";

  var T = {
    vi: {
      title: "Phản ánh hiện trường — Thống kê", from: "Từ ngày", to: "Đến ngày", interval: "Chu kỳ",
      day: "Ngày", week: "Tuần", updated: "Cập nhật", trend: "Xu hướng", created: "Tiếp nhận",
      resolvedSeries: "Đã xử lý", scoreboard: "Bảng xếp hạng đơn vị", categories: "Theo lĩnh vực",
      heat: "Bản đồ nhiệt", total: "Tổng phản ánh", open: "Đang xử lý", resolved: "Đã giải quyết",
      onTime: "Đúng hạn", overdue: "Quá hạn", assign: "TG phân công TB", resolve: "TG xử lý TB",
      rating: "Hài lòng TB", noData: "Chưa có dữ liệu", agency_name: "Đơn vị", received: "Tiếp nhận",
      resolved_on_time_pct: "Đúng hạn %", median_time_to_resolve_s: "Trung vị", p90_time_to_resolve_s: "P90",
      backlog: "Tồn", overdue_now: "Quá hạn", mean_rating: "Đánh giá", reports: "phản ánh", error: "Không tải được dữ liệu"
    },
    en: {
      title: "Field reports — Statistics", from: "From", to: "To", interval: "Interval",
      day: "Day", week: "Week", updated: "Updated", trend: "Trend", created: "Received",
      resolvedSeries: "Resolved", scoreboard: "Agency scoreboard", categories: "By category",
      heat: "Heat map", total: "Reports", open: "Open", resolved: "Resolved",
      onTime: "On time", overdue: "Overdue", assign: "Mean time to assign", resolve: "Mean time to resolve",
      rating: "Mean rating", noData: "No data yet", agency_name: "Agency", received: "Received",
      resolved_on_time_pct: "On time %", median_time_to_resolve_s: "Median", p90_time_to_resolve_s: "P90",
      backlog: "Backlog", overdue_now: "Overdue", mean_rating: "Rating", reports: "reports", error: "Could not load data"
    }
  };
  var COLUMNS = ["agency_name", "received", "resolved", "resolved_on_time_pct", "median_time_to_resolve_s",
    "p90_time_to_resolve_s", "backlog", "overdue_now", "mean_rating"];
  var SVG = "http://www.w3.org/2000/svg";
  var state = { lang: document.documentElement.lang === "en" ? "en" : "vi", sort: "resolved_on_time_pct", order: "desc" };
  var params = new URLSearchParams(location.search);
  if (params.get("lang") === "vi" || params.get("lang") === "en") state.lang = params.get("lang");

  function t(key) { return (T[state.lang] || T.vi)[key] || key; }
  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function num(v, digits) {
    if (v === null || v === undefined) return "—";
    return Number(v).toLocaleString(state.lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: digits || 0 });
  }

  function duration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 3600) return num(s / 60, 0) + " min";
    if (s < 172800) return num(s / 3600, 1) + " h";
    return num(s / 86400, 1) + (state.lang === "vi" ? " ngày" : " d");
  }

  function query(extra) {
    var q = new URLSearchParams({ lang: state.lang });
    if ($("f-from").value) q.set("from", $("f-from").value);
    if ($("f-to").value) q.set("to", $("f-to").value);
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }

  function get(path, extra) {
    return fetch(path + "?" + query(extra), { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    });
  }

  function translate() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach(function (n) { n.textContent = t(n.getAttribute("data-i18n")); });
    document.querySelectorAll(".lang button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === state.lang));
    });
  }

  function headline(s) {
    var cards = [
      ["total", s.total, num(s.total)], ["open", s.open, num(s.open)], ["resolved", s.resolved, num(s.resolved)],
      ["onTime", s.resolved_on_time_pct, s.resolved_on_time_pct === null ? "—" : num(s.resolved_on_time_pct, 1) + "%"],
      ["overdue", s.overdue_now, num(s.overdue_now)], ["assign", s.mean_time_to_assign_s, duration(s.mean_time_to_assign_s)],
      ["resolve", s.mean_time_to_resolve_s, duration(s.mean_time_to_resolve_s)],
      ["rating", s.mean_rating, s.mean_rating === null ? "—" : num(s.mean_rating, 2) + " / 5"]
    ];
    var box = $("headline");
    box.textContent = "";
    cards.forEach(function (c) {
      var card = el("div", { "class": "card", "data-key": c[0], "data-value": c[1] === null ? "" : c[1] });
      card.appendChild(el("div", { "class": "label" }, t(c[0])));
      card.appendChild(el("div", { "class": "value" }, c[2]));
      box.appendChild(card);
    });
  }

  function empty(box) { box.textContent = ""; box.appendChild(el("p", { "class": "empty" }, t("noData"))); }

  function trend(points) {
    var box = $("trend");
    if (!points.length) return empty(box);
    var W = 640, H = 220, L = 36, R = 28, TOP = 10, B = 28;
    var max = Math.max(1, Math.max.apply(null, points.map(function (p) { return Math.max(p.created, p.resolved); })));
    var step = points.length > 1 ? (W - L - R) / (points.length - 1) : 0;
    var x = function (i) { return L + (points.length > 1 ? i * step : (W - L - R) / 2); };
    var y = function (v) { return TOP + (H - TOP - B) * (1 - v / max); };
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": t("trend") });
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      svg.appendChild(el("svg:line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#dde3ea" }));
      svg.appendChild(el("svg:text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6b7b" }, v));
    });
    [["created", "#1f6fb2"], ["resolved", "#2e9d5b"]].forEach(function (s) {
      var d = points.map(function (p, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(p[s[0]]).toFixed(1); }).join(" ");
      svg.appendChild(el("svg:path", { d: d, fill: "none", stroke: s[1], "stroke-width": 2 }));
      points.forEach(function (p, i) {
        var c = el("svg:circle", { cx: x(i), cy: y(p[s[0]]), r: 3.5, fill: s[1], "data-series": s[0], "data-period": p.period, "data-value": p[s[0]] });
        c.appendChild(el("svg:title", {}, p.period + ": " + p[s[0]]));
        svg.appendChild(c);
      });
    });
    var every = Math.max(1, Math.ceil(points.length / 8));
    points.forEach(function (p, i) {
      if (i % every) return;
      svg.appendChild(el("svg:text", { x: x(i), y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#5b6b7b" }, p.period.slice(5)));
    });
    box.textContent = "";
    box.appendChild(svg);
  }

  function scoreboard(body) {
    var table = $("scoreboard");
    var head = el("tr");
    COLUMNS.forEach(function (c) {
      var key = c === "agency_name" ? "agency_id" : c;
      var th = el("th", { scope: "col", "data-col": key }, t(c));
      if (key === state.sort) th.setAttribute("aria-sort", state.order === "asc" ? "ascending" : "descending");
      th.addEventListener("click", function () {
        state.order = state.sort === key && state.order === "desc" ? "asc" : "desc";
        state.sort = key;
        refresh();
      });
      head.appendChild(th);
    });
    table.tHead.textContent = "";
    table.tHead.appendChild(head);
    var tbody = table.tBodies[0];
    tbody.textContent = "";
    body.items.forEach(function (r) {
      var tr = el("tr", { "data-agency": r.agency_id });
      COLUMNS.forEach(function (c) {
        var v = r[c], text;
        if (c.indexOf("time_to") >= 0) text = duration(v);
        else if (c === "resolved_on_time_pct") text = v === null ? "—" : num(v, 1) + "%";
        else if (c === "mean_rating") text = num(v, 2);
        else if (c === "agency_name") text = v;
        else text = num(v);
        tr.appendChild(el("td", { "data-col": c, "data-value": v === null ? "" : v }, text));
      });
      tbody.appendChild(tr);
    });
    if (!body.items.length) tbody.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: COLUMNS.length }, t("noData")));
  }

  function categories(body) {
    var box = $("categories"), items = body.items;
    if (!items.length) return empty(box);
    var row = 28, W = 480, label = 170, H = items.length * row + 8;
    var max = Math.max.apply(null, items.map(function (c) { return c.received; }));
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": t("categories") });
    items.forEach(function (c, i) {
      var w = Math.max(2, (W - label - 50) * c.received / max), top = 4 + i * row;
      svg.appendChild(el("svg:text", { x: label - 6, y: top + 17, "text-anchor": "end", "font-size": 13, fill: "#1d2733" }, c.category_name));
      var bar = el("svg:rect", { x: label, y: top + 4, width: w.toFixed(1), height: row - 10, rx: 3, fill: "#e08a1e", "data-category": c.category, "data-count": c.received });
      bar.appendChild(el("svg:title", {}, c.category_name + ": " + c.received));
      svg.appendChild(bar);
      svg.appendChild(el("svg:text", { x: label + w + 6, y: top + 17, "font-size": 13, fill: "#1d2733", "class": "count" }, c.received));
    });
    box.textContent = "";
    box.appendChild(svg);
  }

  function heat(body) {
    var box = $("heat"), cells = body.cells;
    if (!cells.length) return empty(box);
    var s = Math.min.apply(null, cells.map(function (c) { return c.south; })), n = Math.max.apply(null, cells.map(function (c) { return c.north; }));
    var w = Math.min.apply(null, cells.map(function (c) { return c.west; })), e = Math.max.apply(null, cells.map(function (c) { return c.east; }));
    var W = 400, scale = W / Math.max(e - w, n - s), H = Math.max(40, (n - s) * scale);
    var max = Math.max.apply(null, cells.map(function (c) { return c.count; }));
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H.toFixed(1), role: "img", "aria-label": t("heat") });
    svg.appendChild(el("svg:rect", { x: 0, y: 0, width: W, height: H.toFixed(1), fill: "#eef2f5" }));
    cells.forEach(function (c) {
      var a = 0.2 + 0.8 * c.count / max;
      var r = el("svg:rect", {
        x: ((c.west - w) * scale).toFixed(1), y: ((n - c.north) * scale).toFixed(1),
        width: Math.max(2, body.cell_deg * scale).toFixed(1), height: Math.max(2, body.cell_deg * scale).toFixed(1),
        fill: "rgba(200,30,30," + a.toFixed(2) + ")", "data-count": c.count, "class": "cell"
      });
      r.appendChild(el("svg:title", {}, c.lat + ", " + c.lon + ": " + c.count + " " + t("reports")));
      svg.appendChild(r);
    });
    box.textContent = "";
    box.appendChild(svg);
  }

  function csvLinks() {
    $("scoreboard-csv").href = "api/v1/stats/scoreboard.csv?" + query({ sort: state.sort, order: state.order });
    $("categories-csv").href = "api/v1/stats/categories.csv?" + query();
    $("grid-csv").href = "api/v1/stats/grid.csv?" + query();
  }

  function refresh() {
    translate();
    csvLinks();
    return Promise.all([
      get("api/v1/stats/summary"),
      get("api/v1/stats/timeseries", { interval: $("f-interval").value }),
      get("api/v1/stats/scoreboard", { sort: state.sort, order: state.order }),
      get("api/v1/stats/categories"),
      get("api/v1/stats/grid")
    ]).then(function (r) {
      headline(r[0]); trend(r[1].items); scoreboard(r[2]); categories(r[3]); heat(r[4]);
      $("updated").textContent = new Date().toLocaleTimeString(state.lang === "vi" ? "vi-VN" : "en-GB");
      document.body.setAttribute("data-loaded", "true");
    }).catch(function (err) {
      $("updated").textContent = t("error");
      if (window.console) console.warn(String(err));
    });
  }

  document.querySelectorAll(".lang button").forEach(function (b) {
    b.addEventListener("click", function () {
      state.lang = b.getAttribute("data-lang");
      var q = new URLSearchParams(location.search);
      q.set("lang", state.lang);
      history.replaceState(null, "", "?" + q.toString());
      refresh();
    });
  });
  ["f-from", "f-to", "f-interval"].forEach(function (id) { $(id).addEventListener("change", refresh); });
  refresh();
  setInterval(refresh, 1000 * Math.max(5, Number(document.body.getAttribute("data-refresh-s")) || 60));
})();
