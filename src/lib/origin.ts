/** The origin an instance answers on, for URLs it hands out when no public URL is set. */
export function listenOrigin(host: string, port: number): string {
  // A wildcard address is not one a client can dial; this machine's own name is.
  const name = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`
}
