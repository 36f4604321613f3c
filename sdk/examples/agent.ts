import { Switchboard } from '@switchboard/sdk'

const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL!, token: process.env.AGENT_TOKEN! })
const me = await sb.me()
console.log(`running as ${me.permanentId}`)

const heartbeat = sb.startHeartbeat() // a third of the online window, with jitter and backoff
const commands = sb.pollCommands((command) => ({ ran: command.action })) // run, then acknowledge
const live = sb.subscribe({
  types: ['message.received'], // reconnects by itself and resumes with ?since=
  onEvent: async () => {
    const { messages } = await sb.inbox()
    for (const m of messages) console.log(`from ${m.from}:`, m.payload)
    await sb.markRead(messages.map((m) => m.id))
  },
})

process.once('SIGTERM', async () => {
  await Promise.all([live.close(), commands.stop(), heartbeat.stop()]) // the last beat says offline
})
