//! The fixed word lists the demo draws from: people's names, cities, the café's menu, the boutique's
//! products, campaign names and the phrases reviews and survey answers are assembled from. Keeping
//! them as constant arrays keeps generation allocation-free where it matters and reproducible.

pub const FIRST_NAMES: [&str; 64] = [
    "Maya", "Liam", "Olivia", "Noah", "Emma", "Ethan", "Ava", "Lucas", "Sophia", "Mason", "Isabella",
    "Logan", "Mia", "James", "Amelia", "Aiden", "Harper", "Elijah", "Evelyn", "Benjamin", "Abigail",
    "Carter", "Emily", "Daniel", "Ella", "Henry", "Grace", "Jackson", "Chloe", "Sebastian", "Zoe",
    "Mateo", "Nora", "Leo", "Riley", "Owen", "Layla", "Samuel", "Lily", "Julian", "Aria", "Isaac",
    "Hannah", "Gabriel", "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sofia", "Diego",
    "Camila", "Andre", "Keisha", "Malik", "Ingrid", "Tomas", "Ana", "Rafael", "Yuki", "Kenji",
    "Amara", "Nia",
];

pub const LAST_NAMES: [&str; 64] = [
    "Chen", "Smith", "Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez",
    "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez",
    "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Kim", "Okafor", "Novak", "Larsen", "Schmidt", "Rossi", "Tanaka", "Silva", "Murphy",
    "Kowalski", "Haddad", "Osei", "Dubois", "Brennan", "Fischer", "Santos",
];

pub const EMAIL_DOMAINS: [&str; 3] = ["example.com", "example.net", "example.org"];

pub const AGE_BANDS: [&str; 6] = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

/// Where the café's customers live: the shop is in Portland, Oregon.
pub const COFFEE_CITIES: [&str; 10] = [
    "Portland", "Portland", "Portland", "Beaverton", "Lake Oswego", "Milwaukie", "Gresham",
    "Tigard", "Vancouver", "Hillsboro",
];

/// Where the boutique ships to: city and state.
pub const BOUTIQUE_CITIES: [(&str, &str); 24] = [
    ("Asheville", "NC"), ("Asheville", "NC"), ("Charlotte", "NC"), ("Raleigh", "NC"),
    ("Atlanta", "GA"), ("Nashville", "TN"), ("Richmond", "VA"), ("Charleston", "SC"),
    ("New York", "NY"), ("Brooklyn", "NY"), ("Boston", "MA"), ("Philadelphia", "PA"),
    ("Washington", "DC"), ("Chicago", "IL"), ("Austin", "TX"), ("Denver", "CO"),
    ("Seattle", "WA"), ("San Francisco", "CA"), ("Los Angeles", "CA"), ("Minneapolis", "MN"),
    ("Savannah", "GA"), ("Pittsburgh", "PA"), ("Columbus", "OH"), ("Portland", "ME"),
];

#[derive(Debug, Clone, Copy)]
pub struct MenuItem {
    pub name: &'static str,
    pub sku: &'static str,
    pub cents: i64,
}

const fn item(name: &'static str, sku: &'static str, cents: i64) -> MenuItem {
    MenuItem { name, sku, cents }
}

pub const DRINKS: [MenuItem; 10] = [
    item("Latte", "BT-LAT", 525),
    item("Flat white", "BT-FLW", 475),
    item("Cappuccino", "BT-CAP", 475),
    item("Americano", "BT-AME", 375),
    item("Drip coffee", "BT-DRP", 325),
    item("Cold brew", "BT-CLB", 495),
    item("Oat milk latte", "BT-OAT", 575),
    item("Chai latte", "BT-CHA", 525),
    item("Mocha", "BT-MOC", 550),
    item("Espresso", "BT-ESP", 300),
];

pub const PASTRIES: [MenuItem; 6] = [
    item("Croissant", "BT-CRO", 395),
    item("Almond croissant", "BT-ALC", 475),
    item("Blueberry muffin", "BT-MUF", 375),
    item("Cinnamon roll", "BT-CIN", 450),
    item("Banana bread", "BT-BAN", 350),
    item("Chocolate chip cookie", "BT-COO", 275),
];

pub const FOOD: [MenuItem; 4] = [
    item("Avocado toast", "BT-AVO", 950),
    item("Breakfast sandwich", "BT-BRS", 850),
    item("Turkey pesto panini", "BT-PAN", 1050),
    item("Granola bowl", "BT-GRA", 750),
];

pub const BEANS: [MenuItem; 2] = [
    item("House blend beans 250g", "BT-HB250", 1400),
    item("Ethiopia Guji beans 250g", "BT-ETH250", 1600),
];

#[derive(Debug, Clone, Copy)]
pub struct Product {
    pub name: &'static str,
    pub sku: &'static str,
    /// The product page is `/products/{slug}`.
    pub page: &'static str,
    pub cents: i64,
    pub category: &'static str,
}

const fn product(
    name: &'static str,
    sku: &'static str,
    page: &'static str,
    cents: i64,
    category: &'static str,
) -> Product {
    Product { name, sku, page, cents, category }
}

/// Clothing: what people come for.
pub const GARMENTS: [Product; 12] = [
    product("Linen Wrap Dress", "TN-DR-01", "/products/linen-wrap-dress", 8900, "dresses"),
    product("Midi Slip Dress", "TN-DR-02", "/products/midi-slip-dress", 7800, "dresses"),
    product("Floral Tea Dress", "TN-DR-03", "/products/floral-tea-dress", 7200, "dresses"),
    product("Organic Cotton Tee", "TN-TP-01", "/products/organic-cotton-tee", 2800, "tops"),
    product("Silk Camisole", "TN-TP-02", "/products/silk-camisole", 4800, "tops"),
    product("Oversized Linen Shirt", "TN-TP-03", "/products/oversized-linen-shirt", 6400, "tops"),
    product("Striped Breton Top", "TN-TP-04", "/products/striped-breton-top", 4200, "tops"),
    product("Merino Cardigan", "TN-KN-01", "/products/merino-cardigan", 8400, "knitwear"),
    product("Chunky Knit Sweater", "TN-KN-02", "/products/chunky-knit-sweater", 9600, "knitwear"),
    product("High-Rise Wide Jeans", "TN-BT-01", "/products/high-rise-wide-jeans", 9200, "bottoms"),
    product("Pleated Midi Skirt", "TN-BT-02", "/products/pleated-midi-skirt", 5800, "bottoms"),
    product("Tailored Trousers", "TN-BT-03", "/products/tailored-trousers", 7400, "bottoms"),
];

/// Small things added to a basket, including to reach free shipping.
pub const ACCESSORIES: [Product; 8] = [
    product("Silk Scarf", "TN-AC-01", "/products/silk-scarf", 3600, "accessories"),
    product("Canvas Tote", "TN-AC-02", "/products/canvas-tote", 3200, "accessories"),
    product("Gold Hoop Earrings", "TN-AC-03", "/products/gold-hoop-earrings", 2400, "accessories"),
    product("Leather Belt", "TN-AC-04", "/products/leather-belt", 3800, "accessories"),
    product("Wool Beanie", "TN-AC-05", "/products/wool-beanie", 2600, "accessories"),
    product("Cotton Socks (3 pack)", "TN-AC-06", "/products/cotton-socks-3-pack", 1600, "accessories"),
    product("Hair Claw Clip", "TN-AC-07", "/products/hair-claw-clip", 1200, "accessories"),
    product("Cashmere Scarf", "TN-AC-08", "/products/cashmere-scarf", 5800, "accessories"),
];

pub const BOUTIQUE_LANDINGS: [&str; 6] = [
    "/",
    "/collections/new-in",
    "/collections/dresses",
    "/collections/knitwear",
    "/collections/accessories",
    "/blogs/journal/capsule-wardrobe",
];

pub const FASHION_BLOGS: [(&str, &str); 4] = [
    ("stylebyemma.com", "https://www.stylebyemma.com/autumn-capsule-edit"),
    ("thelinenlife.blog", "https://thelinenlife.blog/small-brands-we-love"),
    ("southernthreads.co", "https://southernthreads.co/asheville-shopping-guide"),
    ("slowfashionnotes.com", "https://slowfashionnotes.com/gift-guide"),
];

/// Paid campaigns by month of the period (November first), for ad clicks.
pub const COFFEE_SOCIAL_CAMPAIGNS: [&str; 12] = [
    "pumpkin-spice-return", "holiday-gift-cards", "new-year-new-mug", "winter-warmers",
    "valentines-mocha", "spring-cold-brew", "refer-a-friend-launch", "summer-iced-menu",
    "summer-iced-menu", "back-to-school", "fall-beans", "pumpkin-spice-return",
];

pub const BOUTIQUE_SOCIAL_CAMPAIGNS: [&str; 12] = [
    "autumn-lookbook", "holiday-gift-edit", "new-year-sale", "winter-knits", "valentines-edit",
    "spring-linen", "spring-linen", "summer-dresses", "summer-dresses", "end-of-summer-sale",
    "autumn-lookbook", "autumn-knits",
];

pub const BOUTIQUE_SEARCH_CAMPAIGNS: [&str; 3] = ["brand-search", "dresses-generic", "linen-clothing"];

pub const COFFEE_POSITIVE: [&str; 16] = [
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
];

pub const COFFEE_NEGATIVE: [&str; 10] = [
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
];

pub const COFFEE_REFERRAL_PRAISE: [&str; 5] = [
    "The refer-a-friend rewards are a great idea, got my coworkers hooked",
    "Love getting a free drink when friends use my code",
    "Signed up with my sister's referral code, great first visit",
    "The loyalty stamps add up fast now",
    "Brought three friends with my code already",
];

pub const CLOSERS: [&str; 8] = [
    "", "", "", ".", "!", " - will be back.", " Highly recommend.", " Thanks!",
];

/// Boutique praise, by theme: quality, fit, service, packaging.
pub const BOUTIQUE_POSITIVE: [&str; 16] = [
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
];

/// Negative boutique text about shipping cost. Every one mentions shipping or the delivery fee.
pub const SHIPPING_COMPLAINTS: [&str; 12] = [
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
];

/// Other negative boutique themes; none mentions shipping or delivery, so themes stay separable.
pub const BOUTIQUE_OTHER_COMPLAINTS: [&str; 12] = [
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
];

pub const EXIT_REASONS: [&str; 6] = [
    "Shipping cost",
    "Just browsing",
    "Found it cheaper elsewhere",
    "Unsure about sizing",
    "Payment problem",
    "Other",
];

/// Free text for each exit reason except shipping (which uses [`SHIPPING_COMPLAINTS`]).
pub const EXIT_TEXTS: [&[&str]; 6] = [
    &[],
    &["Just looking for now", "Saving it for payday", "Wanted to show my partner first"],
    &["Saw the same brand cheaper on another site", "Found something similar for less"],
    &["Not sure which size to get", "No size chart for this dress", "Between two sizes"],
    &["Card was declined", "No PayPal option on mobile", "Page froze when I paid"],
    &["Changed my mind", "Will come back later", "Wanted it in another colour"],
];
