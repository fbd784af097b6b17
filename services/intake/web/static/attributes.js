// The category's attributes (Open311 style): singlevaluelist -> select, multivaluelist ->
// checkboxes, number -> number input, anything else -> text.
function field(attr, control, labelFor) {
  const wrap = document.createElement('div');
  wrap.className = 'field';
  const label = document.createElement('label');
  label.htmlFor = labelFor;
  label.textContent = attr.description || attr.code;
  if (attr.required) {
    const star = document.createElement('span');
    star.className = 'req';
    star.textContent = ' *';
    star.setAttribute('aria-hidden', 'true');
    label.append(star);
  }
  wrap.append(label, control);
  return wrap;
}

function select(attr, id) {
  const el = document.createElement('select');
  el.id = id;
  el.add(new Option('—', ''));
  for (const v of attr.values) el.add(new Option(v.name, v.key));
  return el;
}

function checkboxes(attr, id) {
  const set = document.createElement('fieldset');
  set.className = 'field';
  set.id = id;
  const legend = document.createElement('legend');
  legend.textContent = attr.description || attr.code;
  set.append(legend);
  attr.values.forEach((v, i) => {
    const label = document.createElement('label');
    label.className = 'check';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = v.key;
    box.id = `${id}-${i}`;
    label.append(box, ` ${v.name}`);
    set.append(label);
  });
  return set;
}

export function renderAttributes(box, category) {
  box.replaceChildren();
  if (!category) return;
  for (const attr of category.attributes) {
    const id = `attr-${attr.code}`;
    let el;
    if (attr.datatype === 'multivaluelist') {
      el = checkboxes(attr, id);
      box.append(el);
    } else {
      if (attr.datatype === 'singlevaluelist') el = select(attr, id);
      else {
        el = document.createElement('input');
        el.id = id;
        el.type = attr.datatype === 'number' ? 'number' : 'text';
      }
      box.append(field(attr, el, id));
    }
    el.dataset.code = attr.code;
    el.dataset.required = String(attr.required);
    if (attr.required && el.tagName !== 'FIELDSET') el.required = true;
  }
}

// {values: {code: value}, filled: Set of codes with an answer}
export function readAttributes(box, category) {
  const values = {};
  const filled = new Set();
  for (const attr of category?.attributes || []) {
    const el = box.querySelector(`#attr-${CSS.escape(attr.code)}`);
    if (!el) continue;
    let v;
    if (attr.datatype === 'multivaluelist') {
      v = [...el.querySelectorAll('input:checked')].map((b) => b.value);
      if (!v.length) continue;
    } else if (attr.datatype === 'number') {
      if (el.value === '') continue;
      v = Number(el.value);
    } else {
      v = el.value.trim();
      if (!v) continue;
    }
    values[attr.code] = v;
    filled.add(attr.code);
  }
  return { values, filled };
}
