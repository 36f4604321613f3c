import type { Socket, TCPSocketListener } from 'bun'

/**
 * A TCP pass-through in front of the server, for cutting the browser's connections on
 * purpose: `cut()` ends every open one, `hold()` refuses new ones until `release()`. It
 * records the first line of every request it passes, so a test can see what was asked.
 */
type Conn = { peer?: Socket<unknown>; pending: Uint8Array[]; first: boolean }

export function cuttableProxy(target: { hostname: string; port: number }) {
  const open = new Set<Socket<Conn>>()
  const requestLines: string[] = []
  let held = false
  const listener: TCPSocketListener<{ peer?: Socket<unknown>; pending: Uint8Array[]; first: boolean }> =
    Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      data: { pending: [], first: true } as Conn,
      socket: {
        open(client) {
          if (held) return void client.end()
          client.data = { pending: [], first: true }
          open.add(client)
          Bun.connect({
            hostname: target.hostname,
            port: target.port,
            socket: {
              open(server) {
                client.data.peer = server as Socket<unknown>
                for (const chunk of client.data.pending) server.write(chunk)
                client.data.pending = []
              },
              data(_server, chunk) {
                client.write(chunk)
              },
              close() {
                client.end()
              },
              error() {
                client.end()
              },
            },
          }).catch(() => client.end())
        },
        data(client, chunk) {
          if (client.data.first) {
            client.data.first = false
            requestLines.push(new TextDecoder().decode(chunk.subarray(0, 300)).split('\r\n')[0]!)
          }
          if (client.data.peer) client.data.peer.write(chunk)
          else client.data.pending.push(new Uint8Array(chunk))
        },
        close(client) {
          open.delete(client)
          client.data.peer?.end()
        },
        error(client) {
          client.data.peer?.end()
        },
      },
    })
  return {
    url: `http://127.0.0.1:${listener.port}`,
    requestLines,
    cut() {
      for (const c of open) c.end()
      open.clear()
    },
    hold() {
      held = true
    },
    release() {
      held = false
    },
    stop() {
      this.cut()
      listener.stop(true)
    },
  }
}
