export function taskHref(id: string): string {
  return `/tasks/${encodeURIComponent(id)}`;
}
