/** `/` pressed on a page without a search box: go to Tasks and focus its search once mounted. */
let pending = false;

export function requestSearchFocus(): void {
  pending = true;
}

export function takeSearchFocusRequest(): boolean {
  const p = pending;
  pending = false;
  return p;
}

export function focusPageSearch(): boolean {
  const el = document.querySelector<HTMLInputElement>("[data-search]");
  if (!el) return false;
  el.focus();
  el.select();
  return true;
}
