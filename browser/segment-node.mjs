// Segment's Node client (@segment/analytics-node, from npm) driving a real Trailmap server: the
// Rust test in crates/server/tests/server.rs starts the server, runs this script with
// TRAILMAP_HOST (http://IP:PORT) and TRAILMAP_WRITE_KEY in the environment, and then checks the
// stored events and identities. It sends what a Node back end would: an anonymous page view, an
// identify joining that visitor to a user id and an email, a purchase, screen, group and alias,
// then a call with a wrong key, which must come back as an HTTP 401 error.
import { Analytics } from '@segment/analytics-node'

const host = process.env.TRAILMAP_HOST
const writeKey = process.env.TRAILMAP_WRITE_KEY
if (!host || !writeKey) {
  console.error('segment-node.mjs needs TRAILMAP_HOST and TRAILMAP_WRITE_KEY')
  process.exit(2)
}

function client(key, errors) {
  const analytics = new Analytics({ writeKey: key, host, flushAt: 50, flushInterval: 200, maxRetries: 0 })
  analytics.on('error', (e) => errors.push(e))
  return analytics
}

const errors = []
const analytics = client(writeKey, errors)
analytics.page({
  anonymousId: 'node-anon',
  name: 'Home',
  context: { page: { url: 'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=autumn', referrer: '' } },
})
analytics.identify({ userId: 'node-user', anonymousId: 'node-anon', traits: { email: 'Node@Example.com', name: 'Node Client', plan: 'pro' } })
analytics.track({ userId: 'node-user', event: 'Order Completed', properties: { revenue: 42.5, currency: 'USD' } })
analytics.screen({ userId: 'node-user', name: 'Settings' })
analytics.group({ userId: 'node-user', groupId: 'acme', traits: { size: 3 } })
analytics.alias({ userId: 'node-user-2', previousId: 'node-user' })
await analytics.closeAndFlush({ timeout: 10000 })
if (errors.length > 0) {
  console.error('unexpected errors:', errors)
  process.exit(1)
}

const badErrors = []
const bad = client('not-a-key', badErrors)
bad.track({ userId: 'someone', event: 'Refused' })
await bad.closeAndFlush({ timeout: 10000 })
const text = JSON.stringify(badErrors, Object.getOwnPropertyNames(badErrors[0] ?? {}))
if (badErrors.length !== 1 || !/401|Unauthorized|invalid_write_key/i.test(text + String(badErrors[0]?.reason ?? '') + String(badErrors[0]?.code ?? ''))) {
  console.error('expected one 401 error, got:', badErrors)
  process.exit(3)
}
console.log('ok')
