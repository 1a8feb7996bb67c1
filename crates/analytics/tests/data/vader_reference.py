"""Makes vader_reference.tsv: VADER scores from the reference implementation.

The Rust sentiment scorer (crates/analytics/src/voice/sentiment.rs) must give the same four scores
as Python vaderSentiment 3.3.2 on every line. Regenerate with:

    python3 -m venv venv-vader && venv-vader/bin/pip install vaderSentiment==3.3.2
    venv-vader/bin/python vader_reference.py > vader_reference.tsv

Columns: text, neg, neu, pos, compound (as the package rounds them: 3 and 4 decimals).
The texts cover VADER's rules (negation, "but", capitals, punctuation emphasis, boosters and
dampeners, emoji and emoticons, idioms, "kind of", "least", "never so") and every phrase the demo
generator writes as feedback (crates/testkit/src/demo/catalog.rs).
"""

import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

RULES = [
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "The service was not good.",
    "The service wasn't very good.",
    "The food was never so good.",
    "It isn't the least bit helpful.",
    "This is the least helpful shop.",
    "I don't think it was bad.",
    "Without doubt the best coffee.",
    "The coffee is good, but the staff are rude.",
    "The coffee is GOOD but the staff are RUDE!!",
    "Great!!!!",
    "Is it good?",
    "Is it good??",
    "Is it good????",
    "It was extremely good.",
    "It was slightly good.",
    "It was marginally bad.",
    "It was barely acceptable.",
    "It was sort of okay.",
    "It was kind of terrible.",
    "That movie was the bomb.",
    "The bomb went off downtown.",
    "Yeah right, that was great.",
    "Cut the mustard, this does not.",
    "She is a hand to mouth worker, but she is happy.",
    "The hard drive failed, it was a bad thing.",
    "I love it :-)",
    "I hate it :(",
    "meh",
    "I am so sad 😢",
    "Thank you so much 🙏 ❤️",
    "No problem at all, happy to help.",
    "Nothing special.",
    "ALL CAPS EVERYWHERE IS GREAT",
    "The staff was HORRIBLE but the cake was fine",
    "Absolutely awful experience, never again.",
    "Pretty good, pretty bad.",
    "",
    "?",
    "The quick brown fox jumps over the lazy dog.",
    "I can't say I didn't enjoy it.",
    "Not only good but excellent.",
    "Although the delivery was late, the dress is wonderful.",
    "The dress is wonderful, though the delivery was late.",
    "I would not recommend this to anyone!",
    "It's okay I guess... not great.",
    "Sooo good!!! 😍😍",
    "Worst. Purchase. Ever.",
    "kinda meh tbh",
    "The latte was lukewarm, BUT the barista was lovely :)",
]

DEMO = [
    # Coffee shop.
    "Best flat white in the neighbourhood",
    "The baristas remember my order every morning",
    "Lovely cozy spot to work for a few hours",
    "The almond croissants are dangerously good",
    "Friendly staff and the coffee is always consistent",
    "Great beans, I buy a bag every couple of weeks",
    "My favourite weekend treat with the kids",
    "Quick service even when it's busy",
    "The oat latte is perfect",
    "Such a warm atmosphere, feels like a second living room",
    "Love the loyalty app, so easy to use",
    "A friend brought me here and now I come every day",
    "The cold brew is smooth and not bitter at all",
    "Good wifi and plenty of plugs",
    "The cinnamon rolls sell out for a reason",
    "Genuinely kind people behind the counter",
    "The line in the morning is too long",
    "Hard to find a seat at lunchtime",
    "A bit pricey for a drip coffee",
    "Wifi kept dropping while I was working",
    "My latte was lukewarm today",
    "Music was too loud to take a call",
    "They ran out of croissants by nine",
    "Card machine was down and I had no cash",
    "Tables were sticky and nobody wiped them",
    "The mobile order was not ready when I arrived",
    "The refer-a-friend rewards are a great idea, got my coworkers hooked",
    "Love getting a free drink when friends use my code",
    "Signed up with my sister's referral code, great first visit",
    "The loyalty stamps add up fast now",
    "Brought three friends with my code already",
    # Boutique.
    "Beautiful quality, the linen feels lovely",
    "The fabric is so much nicer than fast fashion",
    "Stitching and finish are excellent",
    "The dress fits perfectly, true to size",
    "Great fit, the size guide was spot on",
    "Flattering cut and really comfortable",
    "Customer service answered my sizing question within the hour",
    "Friendly team, they swapped my size without fuss",
    "Lovely personal note in the parcel",
    "Gorgeous packaging, felt like a gift",
    "My new favourite shop, everything is so well made",
    "The cardigan is even softer in person",
    "Quality is worth the price",
    "Exactly as pictured and beautifully made",
    "Helpful service on the phone, very patient",
    "Wore it to a wedding and got so many compliments",
    "Shipping is way too expensive",
    "Abandoned my cart when I saw the delivery fee",
    "$7.95 shipping on a $28 tee? No thanks",
    "Loved the dress but the shipping cost put me off",
    "The delivery fee was a nasty surprise at checkout",
    "Would order more often if shipping were free",
    "Shipping costs more than at any other shop I use",
    "Why is there a delivery fee on every order",
    "Shipping charge made the total too much",
    "I only saw the shipping cost at the last step",
    "Expensive shipping, went elsewhere",
    "Free shipping only over $75 is still a stretch for one top",
    "Runs small, I had to size up",
    "The jeans were too long in the leg",
    "Sizing is inconsistent between the dresses",
    "Returns process was confusing",
    "Took ages to get my refund",
    "Colour looked different from the photos",
    "A button came off after one wash",
    "Fabric pilled quickly",
    "The website kept logging me out",
    "Payment failed twice with my card",
    "Could not find my size in anything I liked",
    "Too expensive for what it is",
    "Just looking for now",
    "Saving it for payday",
    "Wanted to show my partner first",
    "Saw the same brand cheaper on another site",
    "Found something similar for less",
    "Not sure which size to get",
    "No size chart for this dress",
    "Between two sizes",
    "Card was declined",
    "No PayPal option on mobile",
    "Page froze when I paid",
    "Changed my mind",
    "Will come back later",
    "Wanted it in another colour",
    "Shipping is way too expensive!",
    "Expensive shipping, went elsewhere - will be back.",
    "Stitching and finish are excellent Highly recommend.",
    "Card was declined Thanks!",
]


def main() -> None:
    analyzer = SentimentIntensityAnalyzer()
    out = sys.stdout
    out.write("text\tneg\tneu\tpos\tcompound\n")
    for text in RULES + DEMO:
        assert "\t" not in text and "\n" not in text
        s = analyzer.polarity_scores(text)
        out.write(f"{text}\t{s['neg']}\t{s['neu']}\t{s['pos']}\t{s['compound']}\n")


if __name__ == "__main__":
    main()
