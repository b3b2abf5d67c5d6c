// A few DOM helpers, so the views read as what they show.

export const $ = (selector) => document.querySelector(selector);

// h("li", {class: "task", dataset: {id}}, child, "text", ...) -> an element
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function show(el, visible) {
  el.hidden = !visible;
}

const status = () => $("#status");

// Errors from the SDK carry Parse's {code, message}; show both, they help.
export function showError(error) {
  const code = error && error.code !== undefined ? ` (code ${error.code})` : "";
  status().textContent = `${(error && error.message) || error}${code}`;
  status().className = "status error";
  show(status(), true);
}

export function clearStatus() {
  show(status(), false);
  status().textContent = "";
}
