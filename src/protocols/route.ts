/** Whether the URL's path (a trailing slash aside) ends in `suffix`. */
export function routeIs(url: URL, suffix: string): boolean {
  const path = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return path.endsWith(suffix);
}
