/* csc-returns HTML report: renders the embedded findings in pages. No libraries, no network.
   Every value from the return (child IDs, values found) is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var t0 = window.performance ? performance.now() : Date.now();
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var F = D.f;
  var PAGE = D.page || 100;
  // columns of a finding row
  var C = 0, S = 1, T = 2, R = 3, CH = 4, FL = 5, SRC = 6, VAL = 7, DET = 8, CHG = 9;
  var SEV_LABEL = { error: "Error", query: "Query", warning: "Warning" };
  var SEV_ICON = { error: "\u2716", query: "\u25b2", warning: "\u25cf" };
  var SEV_PLURAL = { error: "errors", query: "queries", warning: "warnings" };
  var collator = window.Intl ? new Intl.Collator("en-GB", { numeric: true, sensitivity: "base" }) : null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString("en-GB"); }
  function plural(n, one, many) { return fmt(n) + " " + (n === 1 ? one : (many || one + "s")); }
  function cmp(a, b) { return collator ? collator.compare(a, b) : (a < b ? -1 : a > b ? 1 : 0); }

  function sevBadge(i) {
    var s = D.sev[i];
    var span = el("span", "sev sev-" + s);
    var icon = el("span", "sev-icon", SEV_ICON[s] || "");
    icon.setAttribute("aria-hidden", "true");
    span.appendChild(icon);
    span.appendChild(document.createTextNode(" " + (SEV_LABEL[s] || s)));
    return span;
  }
  function codeLink(ci) {
    var code = D.codes[ci];
    var a = el("a", null, code);
    a.href = "#" + D.rules[code].a;
    a.title = "What rule " + code + " means";
    return a;
  }
  function childText(r) {
    if (r[CH] === null || r[CH] === "") return null;
    return r[CH];
  }
  function cell(tr, cls, content) {
    var td = el("td", cls);
    if (content === null || content === undefined || content === "") {
      td.appendChild(el("span", "meta", "\u2014"));
    } else if (typeof content === "object") {
      td.appendChild(content);
    } else {
      td.textContent = String(content);
    }
    tr.appendChild(td);
    return td;
  }
  /* "F1=a; F2=b" shown one item a line, breakable after "=" (display only; the text is unchanged). */
  function valueNode(v) {
    if (v === null || v === undefined || v === "") return null;
    var span = el("span", "vals");
    String(v).split("; ").forEach(function (part, i) {
      if (i) span.appendChild(el("br"));
      var eq = part.indexOf("=");
      if (eq > 0) {
        span.appendChild(document.createTextNode(part.slice(0, eq + 1)));
        span.appendChild(el("wbr"));
        var val = part.slice(eq + 1);
        span.appendChild(val === "" ? el("span", "meta", "(blank)") : document.createTextNode(val));
      } else {
        span.appendChild(document.createTextNode(part));
      }
    });
    return span;
  }
  function changeBadge(r) {
    if (!D.compare || !r[CHG]) return null;
    return r[CHG] === 1 ? el("span", "chg chg-new", "new") : el("span", "chg chg-old", "still there");
  }

  /* A pager: First / Previous / "Page x of y" / Next / Last, real buttons. */
  function Pager(container, label, onGo) {
    this.container = container;
    this.onGo = onGo;
    this.page = 0;
    this.pages = 1;
    var self = this;
    container.textContent = "";
    if (!container.getAttribute("aria-label")) container.setAttribute("aria-label", label);
    function btn(act, text, sr) {
      var b = el("button", null, text);
      b.type = "button";
      b.setAttribute("data-act", act);
      if (sr) b.setAttribute("aria-label", sr);
      b.addEventListener("click", function () { self.go(act); });
      container.appendChild(b);
      return b;
    }
    this.first = btn("first", "\u00ab First", "First page");
    this.prev = btn("prev", "\u2039 Previous", "Previous page");
    this.where = el("span", "where");
    container.appendChild(this.where);
    this.next = btn("next", "Next \u203a", "Next page");
    this.last = btn("last", "Last \u00bb", "Last page");
  }
  Pager.prototype.set = function (page, pages) {
    this.page = page;
    this.pages = pages;
    this.container.hidden = pages <= 1;
    this.where.textContent = "Page " + fmt(page + 1) + " of " + fmt(pages);
    this.first.disabled = this.prev.disabled = page <= 0;
    this.next.disabled = this.last.disabled = page >= pages - 1;
    var active = document.activeElement;
    if (active && active.disabled && this.container.contains(active)) {
      (page > 0 ? this.prev : this.next).focus();
    }
  };
  Pager.prototype.go = function (act) {
    var p = this.page;
    if (act === "first") p = 0;
    else if (act === "prev") p = Math.max(0, p - 1);
    else if (act === "next") p = Math.min(this.pages - 1, p + 1);
    else if (act === "last") p = this.pages - 1;
    this.onGo(p);
  };

  /* ---------------------------------------------------------------- by rule: failing records */
  var byCode = {};
  var childTotals = {};
  for (var i = 0; i < F.length; i++) {
    var code = D.codes[F[i][C]];
    (byCode[code] || (byCode[code] = [])).push(i);
    var k = childKey(F[i]);
    childTotals[k] = (childTotals[k] || 0) + 1;
  }

  function renderRecords(holder, code) {
    var idx = byCode[code] || [];
    var hasDetail = idx.some(function (i) { return F[i][DET]; });
    var pages = Math.max(1, Math.ceil(idx.length / PAGE));
    holder.textContent = "";
    var wrap = el("div", "table-wrap");
    var table = el("table", "records-table");
    var cap = el("caption");
    table.appendChild(cap);
    var thead = el("thead");
    var hr = el("tr");
    var heads = ["Child", "Table", "Row", "Field", "Value found", "Where in the file"];
    if (hasDetail) heads.push("Detail");
    if (D.compare) heads.push("Change");
    heads.forEach(function (h) {
      var th = el("th", h === "Row" ? "num" : null, h);
      th.scope = "col";
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el("tbody");
    table.appendChild(tbody);
    wrap.appendChild(table);
    holder.appendChild(wrap);
    var nav = el("nav", "pager");
    holder.appendChild(nav);
    var pager = new Pager(nav, "Pages of records for rule " + code, show);
    function show(page) {
      tbody.textContent = "";
      var from = page * PAGE, to = Math.min(idx.length, from + PAGE);
      cap.textContent = "Records failing " + code + ": " + (idx.length > PAGE
        ? fmt(from + 1) + "\u2013" + fmt(to) + " of " + fmt(idx.length) : plural(idx.length, "record"));
      for (var j = from; j < to; j++) {
        var r = F[idx[j]];
        var tr = el("tr");
        var child = childText(r);
        var th = el("th", child === null ? "meta" : "child-id", child === null ? (r[T] < 0 ? "whole return" : "no child ID") : child);
        th.scope = "row";
        tr.appendChild(th);
        cell(tr, null, r[T] >= 0 ? D.tables[r[T]] : "");
        cell(tr, "num", r[R]);
        cell(tr, null, D.fields[r[FL]]);
        cell(tr, "val", valueNode(r[VAL]));
        cell(tr, "src", r[SRC]);
        if (hasDetail) cell(tr, null, r[DET]);
        if (D.compare) cell(tr, null, changeBadge(r));
        tbody.appendChild(tr);
      }
      pager.set(page, pages);
    }
    show(0);
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.show-records"), function (b) {
    b.addEventListener("click", function () {
      var row = document.getElementById(b.getAttribute("aria-controls"));
      var open = b.getAttribute("aria-expanded") === "true";
      if (!open) {
        var holder = row.querySelector(".records");
        if (!holder.hasChildNodes()) renderRecords(holder, b.getAttribute("data-code"));
      }
      row.hidden = open;
      b.setAttribute("aria-expanded", open ? "false" : "true");
      if (!b.hasAttribute("data-label")) b.setAttribute("data-label", b.firstChild.textContent);
      b.firstChild.textContent = open ? b.getAttribute("data-label") : "Hide records";
    });
  });

  /* ---------------------------------------------------------------- by child: the explorer */
  function childKey(r) {
    if (r[T] < 0) return "\u0000return";
    var c = childText(r);
    return c === null ? "\u0000none" : "c:" + c;
  }

  var form = document.getElementById("filters");
  var q = document.getElementById("f-q");
  var fSev = document.getElementById("f-sev");
  var fRule = document.getElementById("f-rule");
  var fTable = document.getElementById("f-table");
  var fChange = document.getElementById("f-change");
  var fSort = document.getElementById("f-sort");
  var status = document.getElementById("x-status");
  var explorer = document.getElementById("explorer");
  var xPager = new Pager(document.getElementById("x-pager"), "Pages of findings by child", function (p) {
    renderPage(p);
    explorer.scrollIntoView({ block: "start" });
  });
  var codeIndex = {};
  D.codes.forEach(function (c, ix) { codeIndex[c] = ix; });

  var view = { rows: [], groups: [], groupOf: [], children: 0 };

  function compute() {
    var needle = q.value.trim().toLowerCase();
    var sev = fSev.value === "" ? -1 : +fSev.value;
    var rule = fRule.value === "" ? -1 : (codeIndex[fRule.value] === undefined ? -2 : codeIndex[fRule.value]);
    var table = fTable.value === "" ? -1 : +fTable.value;
    var change = fChange && fChange.value !== "" ? +fChange.value : -1;
    var groups = {}, list = [];
    for (var i = 0; i < F.length; i++) {
      var r = F[i];
      if (sev >= 0 && r[S] !== sev) continue;
      if (rule !== -1 && r[C] !== rule) continue;
      if (table >= 0 && r[T] !== table) continue;
      if (change >= 0 && r[CHG] !== change) continue;
      if (needle) {
        var c = childText(r);
        if (c === null || String(c).toLowerCase().indexOf(needle) < 0) continue;
      }
      var k = childKey(r);
      var g = groups[k];
      if (!g) {
        g = groups[k] = { key: k, child: childText(r), ret: r[T] < 0, idx: [], n: [0, 0, 0] };
        list.push(g);
      }
      g.idx.push(i);
      g.n[r[S]] += 1;
    }
    if (fSort.value === "id") {
      list.sort(function (a, b) { return cmp(a.key, b.key); });
    } else {
      list.sort(function (a, b) {
        return (b.n[0] - a.n[0]) || (b.n[1] - a.n[1]) || (b.n[2] - a.n[2]) || cmp(a.key, b.key);
      });
    }
    var rows = [], groupOf = [];
    list.forEach(function (g, gi) {
      for (var j = 0; j < g.idx.length; j++) { rows.push(g.idx[j]); groupOf.push(gi); }
    });
    view = { rows: rows, groups: list, groupOf: groupOf,
             children: list.filter(function (g) { return g.child !== null; }).length };
  }

  function groupHead(g, continued) {
    var tr = el("tr", "child-head");
    var th = el("th");
    th.scope = "rowgroup";
    th.colSpan = 8;
    if (g.ret) {
      th.appendChild(el("span", null, "Whole return"));
    } else if (g.child === null) {
      th.appendChild(el("span", null, "Records without a child ID"));
    } else {
      th.appendChild(document.createTextNode("Child "));
      th.appendChild(el("span", "child-id", g.child));
    }
    var parts = [];
    D.sev.forEach(function (s, si) {
      if (g.n[si]) parts.push(g.n[si] === 1 ? "1 " + s : fmt(g.n[si]) + " " + SEV_PLURAL[s]);
    });
    var shown = g.idx.length, all = childTotals[g.key] || shown;
    var sum = parts.join(", ") + (shown < all ? " (" + fmt(shown) + " of " + fmt(all) + " findings shown)" : "");
    if (continued) sum += " (continued)";
    th.appendChild(el("span", "child-sum", sum));
    tr.appendChild(th);
    return tr;
  }

  function renderPage(page) {
    var rows = view.rows;
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    var from = page * PAGE, to = Math.min(rows.length, from + PAGE);
    var frag = document.createDocumentFragment();
    var tbody = null, lastGroup = -1;
    for (var j = from; j < to; j++) {
      var gi = view.groupOf[j];
      if (gi !== lastGroup) {
        tbody = el("tbody", "child");
        tbody.appendChild(groupHead(view.groups[gi], j === from && j > 0 && view.groupOf[j - 1] === gi));
        frag.appendChild(tbody);
        lastGroup = gi;
      }
      var r = F[rows[j]];
      var tr = el("tr");
      var td = el("td");
      td.appendChild(codeLink(r[C]));
      var chg = changeBadge(r);
      if (chg) td.appendChild(chg);
      tr.appendChild(td);
      var sv = el("td");
      sv.appendChild(sevBadge(r[S]));
      tr.appendChild(sv);
      var msg = cell(tr, "msgc", D.rules[D.codes[r[C]]].m);
      if (r[DET]) msg.appendChild(el("div", "meta", r[DET]));
      cell(tr, null, r[T] >= 0 ? D.tables[r[T]] : "");
      cell(tr, "num", r[R]);
      cell(tr, null, D.fields[r[FL]]);
      cell(tr, "val", valueNode(r[VAL]));
      cell(tr, "src", r[SRC]);
      tbody.appendChild(tr);
    }
    Array.prototype.slice.call(explorer.tBodies).forEach(function (b) { explorer.removeChild(b); });
    if (!rows.length) {
      var empty = el("tbody");
      var etr = el("tr");
      var etd = el("td", null, F.length ? "No findings match these filters." : "No findings: nothing to show.");
      etd.colSpan = 8;
      etr.appendChild(etd);
      empty.appendChild(etr);
      frag.appendChild(empty);
    }
    explorer.appendChild(frag);
    var text;
    if (!rows.length) {
      text = F.length ? "No findings match these filters." : "No findings.";
    } else {
      text = (rows.length > PAGE ? "Showing findings " + fmt(from + 1) + "\u2013" + fmt(to) + " of " : "Showing ")
        + plural(rows.length, "finding") + " for " + plural(view.children, "child", "children")
        + (view.groups.length > view.children ? " (and records without a child ID)" : "") + ".";
    }
    var filtered = q.value.trim() || fSev.value || fRule.value || fTable.value || (fChange && fChange.value);
    if (filtered && F.length) text += " Filtered from " + plural(F.length, "finding") + ".";
    status.textContent = text;
    xPager.set(page, pages);
  }

  function update() {
    compute();
    renderPage(0);
  }

  var timer = null;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 200);
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearTimeout(timer);
    update();
  });
  [fSev, fRule, fTable, fChange, fSort].forEach(function (s) {
    if (s) s.addEventListener("change", update);
  });
  document.getElementById("f-clear").addEventListener("click", function () {
    q.value = "";
    fSev.value = fRule.value = fTable.value = "";
    if (fChange) fChange.value = "";
    fSort.value = "errors";
    update();
    q.focus();
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.to-explorer"), function (b) {
    b.addEventListener("click", function () {
      q.value = "";
      fSev.value = fTable.value = "";
      if (fChange) fChange.value = "";
      fRule.value = b.getAttribute("data-code");
      update();
      var h = document.getElementById("h-by-child");
      h.setAttribute("tabindex", "-1");
      h.scrollIntoView({ block: "start" });
      h.focus();
    });
  });

  update();
  var ms = (window.performance ? performance.now() : Date.now()) - t0;
  document.documentElement.setAttribute("data-render-ms", ms.toFixed(1));
  if (window.performance) document.documentElement.setAttribute("data-ready-at", performance.now().toFixed(1));
  document.documentElement.setAttribute("data-ready", "1");
})();
