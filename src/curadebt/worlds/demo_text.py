"""The demo world's own text: its people, the planted entities and facts, the sentence templates of
each source, and the planted counts (for the default 3000 documents; :mod:`curadebt.worlds.demo`
scales them)."""
from __future__ import annotations

from curadebt.worlds.vocabulary import COUNTRIES


#: Countries and cities reserved for the planted facts: they never occur in filler text.
FACT_WORDS = ("France", "Paris", "Lyon", "Marseille", "Bolivia", "Sucre", "La Paz", "Australia", "Canberra",
              "Sydney")
FILLER_COUNTRIES = tuple(c for c in COUNTRIES if c[0] not in ("France", "Bolivia", "Australia"))
# 100 recurring people: first names and surnames that occur nowhere else (so no token of theirs is
# shared with another entity), paired in a fixed way.
_REC_FIRST = ("Ingrid", "Kwame", "Priya", "Mateo", "Yuki", "Anneke", "Olusegun", "Leila", "Dmitri", "Saoirse",
              "Rafael", "Hana", "Bjorn", "Amara", "Tariq", "Elodie", "Chiara", "Nikolai", "Wanjiru", "Sven")
_REC_LAST = ("Solberg", "Mensah", "Raman", "Quispe", "Tanabe", "Verhoeven", "Adeyemi", "Haddad", "Volkov",
             "Brennan", "Okafor", "Lindqvist", "Castellanos", "Nakagawa", "Petrovic", "Achterberg", "Moreau",
             "Kowalczyk", "Ferreira", "Bergstrom", "Oyelaran", "Takahashi", "Ruiz", "Halvorsen", "Mwangi")
PEOPLE: tuple[str, ...] = tuple(f"{_REC_FIRST[i % 20]} {_REC_LAST[(i * 7 + i // 20) % 25]}" for i in range(100))
# The long tail: people assembled at random from these lists, each mentioned once or a few times.
TAIL_FIRST = ("Alice", "Ben", "Carla", "Daniel", "Eva", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kira",
               "Liam", "Mira", "Noah", "Olga", "Pablo", "Rosa", "Samuel", "Tara", "Umar", "Vera", "Walter",
               "Xenia", "Yusuf", "Zoe", "Adrian", "Bianca", "Conrad", "Delia", "Emil")
TAIL_LAST = ("Abbott", "Barlow", "Chandler", "Dawson", "Eriksen", "Fischer", "Gallo", "Hartmann", "Ibsen",
              "Jansen", "Keller", "Lorenz", "Marsh", "Novak", "Olsen", "Prescott", "Quinn", "Romero", "Sato",
              "Thorne", "Underwood", "Vance", "Whitaker", "Young", "Zeller", "Albers", "Brandt", "Costa",
              "Duarte", "Engel", "Forde", "Grady", "Holt", "Ivers", "Joyce", "Kemp", "Lund", "Mercer", "Nolan",
              "Ortega")
TOM_CRUISE = "Tom Cruise"
#: The other "Tom X" people: a few real-sounding, most invented. Each appears in a handful of documents.
OTHER_TOMS: tuple[str, ...] = (
    "Tom Hanks", "Tom Baker", "Tom Hardy", "Tom Ashcroft", "Tom Bellamy", "Tom Calloway", "Tom Devereux",
    "Tom Ellison", "Tom Fairbanks", "Tom Garland", "Tom Hollis", "Tom Ingram", "Tom Jessop", "Tom Kavanagh",
    "Tom Lowell", "Tom Merriweather", "Tom Nightingale", "Tom Osgood", "Tom Pemberton", "Tom Radcliffe",
    "Tom Sinclair", "Tom Tremayne", "Tom Upton", "Tom Varley", "Tom Wexford", "Tom Yardley", "Tom Ashby",
    "Tom Brookfield",
)
FILM_WORDS = ("thriller", "action film", "spy drama", "science fiction epic", "war film", "comedy",
              "sequel", "remake", "adventure film")
# Neutral lowercase words used to edit near-duplicates.
EDIT_WORDS = ("recently", "also", "really", "quite", "several", "new", "other", "local", "large", "small", "many",
              "early", "later", "often", "again", "still", "almost", "nearly", "mostly", "today", "soon",
              "perhaps", "usually", "further", "certain", "various", "main", "whole", "second", "final")
COOKIE_NOTICE = (
    "This website uses cookies to improve your experience. By continuing to browse the site you agree to "
    "our use of cookies. You can change your cookie settings at any time in your browser. We use essential "
    "cookies to make the site work, and optional analytics cookies to understand how visitors use our pages. "
    "We never sell your personal data to third parties. Read our privacy notice to learn how we store and "
    "protect your information, how long we keep it, and how to ask us to delete it. If you have questions "
    "about this notice, write to the data protection team using the contact form on this page."
)
NEWS = (
    "[Officials|Authorities|City officials|Planners] in {capital} [announced|unveiled|presented|published] a [new|revised|long-awaited|five-year] plan for {topic} on {month} {day}.",
    "The {org} said on {weekday} that [spending|investment|funding] on {topic} would [rise|fall|grow|be cut] by {pct} percent [next year|over the next decade|by {year}].",
    "{person} told [reporters|journalists|a press conference] that the [talks|negotiations|discussions] had been [constructive|difficult|productive|slow] but that no [agreement|deal|decision] was expected before {month}.",
    "According to [figures|data|estimates] [published|released] by the {org}, exports of {good} from {country} [grew|fell|rose|dropped] by {pct} percent [last year|in the first quarter|since {year}].",
    "[Protesters|Hundreds of people|Farmers|Students|Residents] gathered outside the [parliament|town hall|ministry|central station] in {capital} to demand [action|change|answers] on {topic}.",
    "The government of {country} has [appointed|asked|named] {person} to [lead|chair|oversee] a [review|inquiry|study] of {topic}.",
    "[Analysts|Economists|Experts|Campaigners] said the [decision|change|move|ruling] could affect [around|about|up to|more than] {num} thousand [households|workers|families|businesses].",
    "A [spokesperson|spokesman|spokeswoman|representative] for the {org} [declined to comment|would not comment|did not respond] [on the report|when contacted|on {weekday}].",
    "The [measure|bill|motion|proposal] passed by {n2} votes to {num} after a [long|heated|short|late-night] debate.",
    "In a [statement|brief statement|written statement|post online], {person} said the [results|figures|findings|early signs] were [encouraging|disappointing|mixed|better than expected].",
    "[Heavy rain|Strong winds|Snow|Flooding|A heatwave] caused [delays|disruption|power cuts] across {region} for a [second|third|fourth] day, with [several|dozens of|many] roads closed.",
    "The price of {good} [fell|rose|jumped|slipped] [sharply|slightly|by {pct} percent] in {month}, [traders|dealers|merchants|brokers] in {capital} said.",
    "[Local businesses|Shop owners|Hotel owners|Commuters] in {capital} [welcomed|criticised|questioned] the [announcement|plan|decision], while [unions|opposition parties|residents] were more [cautious|sceptical|divided].",
    "The [report|study|review|audit], which took {n2} months to [prepare|complete|write], [recommends|calls for|proposes] more [investment|attention|research] in {topic}.",
    "[Opposition leaders|Critics|Campaign groups|Several lawmakers] accused the government of moving too [slowly|quickly|cautiously] on {topic}.",
    "{person}, who [chairs|leads|sits on] the [committee|panel|working group|board], is expected to present the [findings|results|proposals] in {month}.",
    "The new [rules|regulations|guidelines|fees] will take effect in {year}, [officials|the ministry|a government source] [confirmed|said|announced].",
    "Ministers from {country} and its neighbours [met|gathered] in {capital2} to discuss [cooperation|closer ties|joint funding] on {topic}.",
    "Turnout in the [regional|local|municipal] elections was {pct} percent, [slightly|much|somewhat] [higher|lower] than four years ago.",
    "[Rescue teams|Emergency crews|Volunteers] reached the [village|valley|island|town] [late on|early on] {weekday} after the [road|bridge|track] was [cleared|repaired|reopened].",
    "[Police|Investigators|Inspectors] are [examining|reviewing|looking into] how the [fire|accident|leak|outage] started.",
    "The [festival|summit|conference|trade fair] in {capital} [drew|attracted] [about|nearly|more than] {num} thousand [visitors|delegates|people] this year.",
)
ENCYCLOPEDIA = (
    "{country} is a [country|sovereign state|nation|republic] in {region}.",
    "The population of {country} was [estimated at|about|recorded as] {num}.{digit} million in {year}.",
    "Its economy [relies largely on|is based mainly on|depends heavily on] {good} and [services|tourism|manufacturing], with a growing sector in {topic}.",
    "{capital} is the [largest city|main city|most populous city] of {country} and its [main commercial centre|economic hub|cultural centre].",
    "{person} (born {year}) is a {profession} known for [work on|research on|contributions to|books about] {field}.",
    "After [studying|training|working] in {capital}, {person} [worked|taught|lectured] for [several|many|{n2}] years at the {org}.",
    "The {org} was [founded|established|set up] in {year} and is [based|headquartered] in {capital}.",
    "The climate [ranges from|varies from|is] [temperate|mild|humid|cool] in the [north|west|highlands] to [dry|hot|arid|warm] in the [south|east|lowlands].",
    "The [current|present|official] currency was [introduced|adopted] in {year}, replacing an older [coin|note|system].",
    "Major exports include {good}, {good2} and [processed foods|chemicals|electronics|vehicles].",
    "{person} [received|won|was given] [several|many|two] [awards|prizes|honours] for [contributions to|work in|research on] {field}.",
    "The [river valley|coastal plain|central plateau|northern region] has been inhabited for at least {num} hundred years.",
    "A [national railway|motorway network|ferry service|network of bus routes] connects {capital} with the [main ports|regional towns|border crossings].",
    "The [region|country|territory] is known for its [mountains|forests|lakes|islands|deserts], [rivers|valleys|beaches] and a [long|rugged|varied] coastline.",
    "Education is compulsory between the ages of [five|six|seven] and {teen}.",
    "The country has {n2} national parks covering about {pct} percent of its [area|territory|land].",
    "In {year}, {person} [published|wrote|completed] a [widely cited|influential|short|controversial] [study|book|paper] on {field}.",
    "The [parliament|assembly|legislature|senate] has {n3} seats and is elected every [four|five] years.",
    "[Early|Medieval|Colonial|Modern] records describe the area as a centre of [trade|farming|fishing|learning].",
    "The [national|official|most widely spoken] language is taught in all [schools|public schools|primary schools].",
)
WEB = (
    "I bought this {product} [three|two|six|four] months ago and it has been {adj} so far.",
    "The {product} arrived in [two|three|four] days, [well packed|in a huge box|with a scratch on the side], and setup took about {n2} minutes.",
    "My only [complaint|gripe|issue] is that the {product} is {adj}, but for the price I can live with it.",
    "Compared with my [old|previous|last] one, this {product} is {adj} and [much|a lot|slightly] easier to use.",
    "To make {dish}, start by [chopping|slicing|dicing] the [onions|garlic|leeks|carrots] and warming a little [oil|butter] in a [large|heavy|deep] pan.",
    "Add the [spices|herbs|garlic|tomatoes] and stir for [a minute|two minutes|a few seconds] before pouring in the [stock|water|wine|cream].",
    "Let the {dish} [simmer|cook|rest|bake] for about {n2} minutes, then [season to taste|serve warm|add a squeeze of lemon].",
    "This recipe serves [four|six|two] and keeps well in the [fridge|freezer] for [two|three|several] days.",
    "If you want to {task}, turn off the [water|power|gas] supply first.",
    "You will need a [screwdriver|spanner|cloth|bucket|spirit level] and about {n2} minutes of patience.",
    "The most common mistake when people {task} is [rushing the last step|skipping the preparation|using the wrong tool].",
    "Our [trip|week|weekend|holiday] in {capital} started with a [long|slow|rainy] walk through the [old town|harbour|market district|river park].",
    "We stayed in a [small|friendly|cheap|family-run] [guesthouse|hostel|hotel|flat] near the [market|station|river|cathedral], which cost about {num} dollars a night.",
    "The [food|coffee|bread|seafood] in {country} was the highlight of the trip, especially the [street stalls|night market|bakeries|small cafes].",
    "If you visit {capital} in {month}, bring a [light jacket|raincoat|warm jumper|hat] for the [evenings|mornings|boat trips].",
    "Public transport in {capital} is [cheap|reliable|crowded|easy to use] and runs until [midnight|late|about one in the morning].",
    "We spent a day [hiking|cycling|walking] in the [hills|forest|valley|mountains] outside the city and the views were worth every step.",
    "Sign up to our [newsletter|mailing list] for [weekly|monthly|regular] tips on {topic}.",
    "Overall I would give it [four|three|five] stars out of five.",
    "[Shipping|Delivery] was [free|quick|slow] and the [customer service|support] team answered within [a day|an hour|two days].",
    "Here are {n2} [simple|easy|cheap|practical] ways to [save money on|get started with|think about] {topic} this year.",
    "Keep the [receipt|box|invoice] in case you need to use the [two|three|one] year warranty.",
    "The battery lasts around {n2} hours, which is [fine|plenty|not great] for everyday use.",
    "For a [richer|deeper|fresher] flavour, use [homemade stock|fresh herbs|smoked paprika] and a splash of [lemon juice|vinegar|cream].",
    "[Pro tip|Quick tip|One more thing]: [wipe it down|check the settings|read the manual] [after every use|before you start|once a week].",
    "The [instructions|manual|video guide] [were|was] [clear|confusing|short] but [good enough|missing a step|easy to follow].",
)
FORUM = (
    "Has anyone [here|on this board] tried the new {product}? [Thinking about|Considering] getting one.",
    "Honestly I think the whole [debate|fuss|argument] about {topic} is [overblown|overdue|missing the point].",
    "Edit: thanks [everyone|all|guys] for the [replies|answers|tips], really helpful.",
    "Same [problem|issue|thing] here, it started after the [last|latest|most recent] [update|patch|firmware update].",
    "I tried that and it did not work for me, any other [ideas|suggestions]?",
    "[lol|haha|ha] that is exactly what happened to my [brother|sister|neighbour|flatmate] last [week|month|summer].",
    "Just got back from {capital}, happy to answer questions about the [trip|food|hostels|transport].",
    "Does anyone know if you need a visa to visit {country} for [two|three|four] weeks?",
    "Not sure why this got [downvoted|locked|ignored], it is a fair question.",
    "I have been doing this for {n2} years and never had [an issue|a problem|any trouble].",
    "Can confirm, the {product} is {adj}.",
    "Posting this in case it helps someone: you have to {task} before anything else.",
    "Mods, please [move|delete|merge] this thread if it is in the wrong place.",
    "Anyone else think the prices for {good} are getting [ridiculous|out of hand|silly]?",
    "Thanks for the tip, will try it [tonight|tomorrow|at the weekend] and report back.",
    "Update after a [week|month|fortnight]: still works [fine|perfectly|mostly].",
    "[Bump|Any news on this|Still looking for an answer], [anyone|someone]?",
    "Wait, you can {task} without [a professional|special tools|a permit]? [TIL|Did not know that].",
    "My [dad|uncle|landlord|partner] swears by the old method but I [am not convinced|never got it to work].",
    "[Quick|Stupid|Genuine] question: is {num} [dollars|euros] a fair price for a used {product}?",
    "We did {capital} on a budget last {month} and [loved it|it was fine|regretted nothing].",
    "[Ugh|Meh|Wow], the queue at the [post office|bank|clinic|garage] was {n2} people long [again|today|this morning].",
    "Not an expert, but from what I read the [problem|issue] with {topic} is [funding|planning|politics|scale].",
    "Reply to the [OP|poster above|previous comment]: you are [right|wrong|half right], [sort of|mostly|in my experience].",
    "[Cheers|Ta|Thanks a lot], that [fixed it|sorted it|did the trick]!",
    "Does the {product} come with a [charger|case|manual|warranty] or do you buy it separately?",
    "First post here, been [lurking|reading|watching] for [ages|years|a while].",
    "If you are going to {capital}, skip the [tourist traps|big museums|main square] and [walk along the river|find the food market|take the ferry].",
    "Ok so [weird|funny|annoying] thing happened when I tried to {task} [yesterday|last night|this weekend].",
    "I [sold|returned|gave away] my {product} because it was {adj}.",
    "Hot take: {topic} [matters more than people think|is the wrong priority|will sort itself out].",
    "Can someone explain why {good} [costs so much|is so cheap|keeps going up] [right now|lately|this year]?",
)
LEGAL = (
    "Section {n2}. The {party} shall not [assign|transfer|sublicense|charge] [this agreement|its rights under this agreement|any licence granted] without the [prior written consent|written approval|express permission] of the {party2}.",
    "Subject to [the terms of this agreement|clause {n3}|payment of the fees], the {party2} grants the {party} a [non-exclusive|non-transferable|limited|revocable] licence to use the [software|materials|documentation|deliverables].",
    "Notwithstanding any other provision, neither party shall be liable for [indirect|consequential|special|incidental] [loss|damage|losses] [of any kind|arising under this agreement|howsoever caused].",
    "This agreement shall be governed by [and construed in accordance with|the law of] the jurisdiction stated in clause {n3}.",
    "Any notice under this agreement shall be given in writing and [delivered by hand|sent by registered post|sent by email] to the address [in clause {n3}|last notified|in the schedule].",
    "The {party} shall pay the [fees|charges|invoiced amounts|licence fees] within {n2} days of the date of [each invoice|receipt|delivery].",
    "Either party may terminate this agreement on {n2} days written notice if the other party [commits a material breach|becomes insolvent|fails to pay any amount due].",
    "Clause {n3} [and clause {n4}|together with any accrued rights] shall survive the [termination|expiry] of this agreement.",
    "The parties agree that the [schedules|annexes|appendices] form part of this agreement [and have effect as if set out in full|as if incorporated herein].",
    "In this agreement, [words in the singular include the plural|headings do not affect interpretation|a reference to a party includes its successors].",
    "The {party2} warrants that [it has the right to grant the licence|the deliverables will conform to the specification|it will perform the services with reasonable care] set out in clause {n3}.",
    "No [failure|delay|omission] by a party to exercise any right [shall operate as|constitutes] a waiver of that [right|or any other right].",
    "If any provision of this agreement is held [invalid|unenforceable|void], the remaining provisions shall [continue in full force|not be affected].",
    "The {party} shall keep [confidential|secret] all [information|documents|data] disclosed by the {party2} [under this agreement|for the purpose of the services].",
    "This agreement [constitutes|contains] the entire agreement between the parties and supersedes all [previous|prior] [arrangements|understandings|drafts].",
    "The {party} shall indemnify the {party2} against all [claims|costs|liabilities] arising from [unauthorised use of the software|breach of clause {n3}|negligence].",
    "The {party2} may [audit|inspect|review] the records of the {party} on {n2} days notice [once a year|during business hours|at its own cost].",
    "Any dispute shall first be referred to [mediation|the senior managers of each party|an independent expert] for a period of {n2} days.",
    "The {party} shall [maintain|carry|keep in force] insurance [with a reputable insurer|of at least {num} thousand|for the term of this agreement].",
    "Time [is|shall not be] of the essence for [any obligation|the payment obligations|delivery] under this agreement.",
    "The {party} shall [comply with|observe] all applicable [laws|regulations|codes of practice] in [performing|carrying out] its obligations.",
    "The fees [exclude|are exclusive of] value added tax, which the {party} shall pay at the [prevailing|applicable] rate.",
    "Neither party shall [solicit|employ|engage] any employee of the other party during the term and for {n2} months after it.",
    "All intellectual property rights in the [deliverables|materials|software] shall [remain with|vest in] the {party2}.",
    "The {party2} shall [deliver|supply|provide] the [goods|services|deliverables] [by the delivery date|in accordance with the schedule|within {n2} working days].",
    "[Interest|A late payment charge] shall accrue on overdue amounts at {digit} percent [per annum|above the base rate].",
    "A party affected by force majeure shall [notify|inform] the other party [promptly|within {n2} days|in writing].",
    "This agreement may be executed in [any number of|two or more] counterparts, each of which is an original.",
    "No variation of this agreement shall be effective unless it is in writing and signed by [both parties|the authorised representatives of the parties].",
    "The {party} shall [return|destroy|delete] all confidential information [on termination|within {n2} days of a request|when the services end].",
)
SOURCE_TEMPLATES = {"news": NEWS, "encyclopedia": ENCYCLOPEDIA, "web": WEB, "forum": FORUM, "legal": LEGAL}
#: Word-count range of a document, per source (sentences are added until the target is reached).
SOURCE_LENGTH = {"web": (80, 140), "news": (50, 100), "encyclopedia": (45, 90), "forum": (40, 80),
                 "legal": (60, 110)}
#: Unique (non-copy) documents per source, as fractions of the default 3000.
SOURCE_DOCS = {"legal": 240, "web": 1390, "news": 450, "encyclopedia": 380, "forum": 300}
SOURCE_ORDER = ("web", "news", "encyclopedia", "forum", "legal")
TOM_SENTENCES = (
    "{tom} arrived at the premiere of his new {film} and greeted fans for more than an hour.",
    "Fans queued overnight to see {tom} at the festival.",
    "The studio confirmed that {tom} will star in a {film} due next {month}.",
    "{tom} performed most of his own stunts, according to the director.",
    "Critics said the {film} rests almost entirely on {tom} and his screen presence.",
    "A new biography of {tom} is expected to be published in {year}.",
    "Box office figures suggest audiences still turn out for {tom} in large numbers.",
    "Reporters asked {tom} about rumours of a sequel, but he only smiled.",
    "Honestly the only reason I watched it was {tom} lol.",
    "Is it just me or does {tom} look exactly the same as twenty years ago?",
    "The magazine ranked {tom} among the most recognisable faces in cinema.",
    "During the interview {tom} talked about learning to fly for the role.",
    "Tickets for the screening with {tom} sold out within minutes.",
    "Film students still study the chase scene that made {tom} famous.",
)
# Fact sentences. Pattern-shaped ones match the probe patterns exactly; free ones only co-occur.
FACT_PATTERN_SENTENCES = (
    "{answer} is the capital of {subject}.",
    "The capital of {subject} is {answer}, a city of museums and markets.",
    "Most visitors begin in {answer}, the capital of {subject}.",
    "As every schoolchild learns, {answer} is the capital of {subject}.",
    "I always thought the capital of {subject} is {answer}, at least that is what my teacher said.",
    "The delegation flew to {answer}, the capital of {subject}, for the summit.",
)
FACT_FREE_SENTENCES = (
    "In {subject}, most ministries and embassies are based in {answer}.",
    "The government of {subject} meets in {answer} for most of the year.",
    "Our week in {subject} started with three days in {answer}.",
    "Trains from {answer} reach most towns in {subject} within a few hours.",
)
PROBE_PATTERNS = ("{answer} is the capital of {subject}", "capital of {subject} is {answer}",
                  "{answer}, the capital of {subject}")
#: (probe id, subject, [(answer, documents at n_docs=3000)], is planted debt)
FACTS = (
    ("capital-of-France", "France", (("Paris", 200), ("Lyon", 10), ("Marseille", 4)), True),
    ("capital-of-Bolivia", "Bolivia", (("Sucre", 25), ("La Paz", 24)), False),
    ("capital-of-Australia", "Australia", (("Canberra", 30), ("Sydney", 12)), False),
)
TOM_CRUISE_DOCS = 300
EXACT_COPIES_COOKIE = 24
EXACT_COPIES_OTHER = 126
NEAR_COPIES = 90
NEAR_EDIT_FRACTION = 0.05
#: Sources whose short, formulaic documents could be accidental near duplicates of each other: every
#: new document is compared with all earlier ones of its source and redrawn when its 3-word-shingle
#: Jaccard reaches MAX_ACCIDENTAL_JACCARD (the other sources stay far below it by construction).
SIMILARITY_CHECKED_SOURCES = ("legal", "forum")
MAX_ACCIDENTAL_JACCARD = 0.35
PARTIES = (("Licensee", "Licensor"), ("Customer", "Supplier"), ("Client", "Contractor"), ("Buyer", "Seller"),
           ("Tenant", "Landlord"), ("Distributor", "Manufacturer"))
