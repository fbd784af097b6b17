// Building DOM nodes without innerHTML: server data only ever becomes text.
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === undefined || v === null || v === false) return;
    if (k === "class") node.className = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, String(v));
  });
  append(node, children);
  return node;
}

function append(node, children) {
  children.forEach((c) => {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) append(node, c);
    else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  });
}

export function $(id) { return document.getElementById(id); }

let seq = 0;
export function uid(prefix) { seq += 1; return (prefix || "f") + "-" + seq; }

// A labelled field: the label is bound to the control by id.
export function field(label, control, help) {
  const id = control.id || uid("f");
  control.id = id;
  const helpNode = help ? h("p", { class: "help", id: id + "-help" }, help) : null;
  if (helpNode) control.setAttribute("aria-describedby", helpNode.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, helpNode);
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

// The current page's URL with another hash route (absolute path: unaffected by <base href>).
export function route(hash) { return location.pathname + location.search + hash; }

export function say(message, kind) {
  const box = $("status");
  box.textContent = "";
  box.className = "status" + (kind ? " " + kind : "");
  if (message) box.appendChild(h("p", {}, message));
}
