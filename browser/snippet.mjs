// The website snippet (/t.js) in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core), as a shop's visitor meets it. This script serves a tiny shop on its own
// 127.0.0.1 port (another origin than Trailmap's, as a real site is) whose pages load the snippet
// from TRAILMAP_HOST with TRAILMAP_WRITE_KEY. The visitor lands from a paid Instagram ad with a
// friend's referral code, goes to the sign-up page, signs up (identify by email) and is tracked
// once more. Then the consent mode: a page that waits for consent stores and sends nothing until
// the banner says yes (and then sends what waited), and a visitor who says no leaves nothing. The
// Rust test in crates/server/tests/server.rs then checks what the store holds.
import http from 'node:http'
import { launchChromium } from './common.mjs'

const host = process.env.TRAILMAP_HOST
const writeKey = process.env.TRAILMAP_WRITE_KEY
if (!host || !writeKey) {
  console.error('snippet.mjs needs TRAILMAP_HOST and TRAILMAP_WRITE_KEY')
  process.exit(2)
}

const page = (title, body, consent) => `<!doctype html><html><head><title>${title}</title>
<script src="${host}/t.js"></script>
<script>trailmap.init(${JSON.stringify(writeKey)}, { host: ${JSON.stringify(host)}${consent ? `, consent: ${JSON.stringify(consent)}` : ''} });</script>
</head><body>${body}</body></html>`

const shop = http.createServer((req, res) => {
  const path = req.url.split('?')[0]
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  if (path === '/landing') res.end(page('Spring coffee', '<a id="signup" href="/signup">Sign up</a>'))
  else if (path === '/signup') res.end(page('Sign up', '<button id="go">Create account</button>'))
  else if (path === '/menu') res.end(page('Menu', '<p>Our coffees</p>', 'pending'))
  else {
    res.statusCode = 404
    res.end('not found')
  }
})
await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${shop.address().port}`

// A desktop browser's user agent: headless Chromium names itself HeadlessChrome, which the bot
// step rightly drops.
const browser = await launchChromium()
let status = 0
try {
  const context = await browser.newContext({
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  })
  const tab = await context.newPage()
  // Every batch the snippet sends must be answered 200 before the script ends, so the test reads
  // a store that has them all.
  const answers = []
  tab.on('response', (r) => {
    if (r.url().startsWith(host + '/v1/batch')) answers.push(r.status())
  })
  const delivered = async (n) => {
    const deadline = Date.now() + 15000
    while (answers.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} answers from /v1/batch, got ${JSON.stringify(answers)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  await tab.goto(`${origin}/landing?utm_source=instagram&utm_medium=paid_social&utm_campaign=spring&ref=ANNA-12`)
  await delivered(1)
  const anonymous = await tab.evaluate(() => trailmap.anonymousId())
  await Promise.all([tab.waitForURL(`${origin}/signup`), tab.click('#signup')])
  await delivered(2)
  const sameVisitor = await tab.evaluate(() => trailmap.anonymousId())
  if (sameVisitor !== anonymous) throw new Error(`the anonymous id changed: ${anonymous} then ${sameVisitor}`)
  await tab.evaluate(() => {
    trailmap.identify('Kim@Example.com', { name: 'Kim Park' })
    trailmap.track('Signed Up', { plan: 'weekly beans' })
  })
  await delivered(3)
  if (answers.some((s) => s !== 200)) throw new Error(`answers: ${JSON.stringify(answers)}`)

  // Consent mode. Sends are counted where they start (sendBeacon and fetch), synchronously, so
  // "nothing was sent" needs no waiting.
  const consentTab = async () => {
    const c = await browser.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' })
    await c.addInitScript(() => {
      window.__sent = 0
      const beacon = navigator.sendBeacon.bind(navigator)
      navigator.sendBeacon = (...a) => { window.__sent++; return beacon(...a) }
      const fetch = window.fetch.bind(window)
      window.fetch = (...a) => { window.__sent++; return fetch(...a) }
    })
    const t = await c.newPage()
    t.on('response', (r) => {
      if (r.url().startsWith(host + '/v1/batch')) answers.push(r.status())
    })
    await t.goto(`${origin}/menu?utm_source=newsletter&utm_medium=email&ref=BEN-7`)
    return t
  }
  const kept = () => ({
    sent: window.__sent,
    id: trailmap.anonymousId(),
    pending: trailmap.pending(),
    cookie: document.cookie,
    stored: window.localStorage.getItem('trailmap_aid'),
  })
  const yes = await consentTab()
  const waiting = await yes.evaluate((kept) => {
    trailmap.track('Viewed Menu', { coffee: 'flat white' })
    trailmap.flush()
    return eval(`(${kept})`)()
  }, kept.toString())
  if (waiting.sent !== 0 || waiting.id !== null || waiting.pending !== 2 || waiting.cookie !== '' || waiting.stored !== null) {
    throw new Error(`before consent something was kept or sent: ${JSON.stringify(waiting)}`)
  }
  await yes.evaluate(() => trailmap.consent(true))
  await delivered(4)
  const granted = await yes.evaluate((kept) => eval(`(${kept})`)(), kept.toString())
  if (!granted.id || granted.pending !== 0 || !granted.cookie.includes('trailmap_aid=') || granted.stored !== granted.id) {
    throw new Error(`after consent the id is not kept: ${JSON.stringify(granted)}`)
  }
  const no = await consentTab()
  const refused = await no.evaluate((kept) => {
    trailmap.track('Never Sent')
    trailmap.consent(false)
    trailmap.track('Never Sent Either')
    trailmap.flush()
    return eval(`(${kept})`)()
  }, kept.toString())
  if (refused.sent !== 0 || refused.id !== null || refused.pending !== 0 || refused.cookie !== '' || refused.stored !== null) {
    throw new Error(`after refusal something was kept or sent: ${JSON.stringify(refused)}`)
  }
  if (answers.length !== 4 || answers.some((s) => s !== 200)) throw new Error(`answers: ${JSON.stringify(answers)}`)
  console.log(JSON.stringify({ anonymousId: anonymous, consentedId: granted.id, answers }))
} catch (e) {
  console.error(e)
  status = 1
} finally {
  await browser.close()
  shop.close()
}
process.exit(status)
