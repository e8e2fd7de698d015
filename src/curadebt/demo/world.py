"""A small synthetic corpus with planted curation debts, generated in code from a seed.

``generate_world(out_dir, seed=0, n_docs=3000)`` writes three files and returns a
:class:`WorldManifest`:

- ``corpus.jsonl``   one document a line: ``{"id", "text", "source"}``, in training order;
- ``probes.jsonl``   competing-fact probes: ``{"id", "subject", "answers", "patterns"}``;
- ``manifest.json``  the ground truth: every planted debt with its exact counts, the controls that
  must *not* be flagged, and the per-source document and token counts.

Nothing is downloaded and nothing outside this module is read; the same ``(seed, n_docs)`` gives the
same bytes on every machine (one ``random.Random(seed)``, no set or hash ordering anywhere).

The texts are short news, encyclopedia, web (reviews, travel notes, recipes, how-tos), forum and
legal documents assembled from many sentence templates, a built-in list of 60 countries with their
capitals and 100 recurring people, plus a long tail of occasional people. Planted debts (counts for
the default 3000 documents; they scale with ``n_docs``):

1. **Over-represented entity / spillover** (salience): "Tom Cruise" in 300 documents (1-2 mentions
   each) while 28 other "Tom X" people appear in 2-5 documents each, so about 80% of the token "Tom"
   belongs to one entity.
2. **Dominant fact** (probes): 200 documents say Paris is the capital of France, 10 say Lyon and 4
   Marseille (20:1). Controls: Bolivia, Sucre 25 vs La Paz 24 (about 1:1, no debt) and Australia,
   Canberra 30 vs Sydney 12 (2.5:1, below the debt threshold). Each fact document holds exactly one
   sentence with the subject and one answer; the subjects and answers occur nowhere else.
3. **Duplicates**: 150 exact copies (a cookie notice copied 24 times, 126 copies of other documents,
   a third of them with whitespace changes) and 90 near copies (about 5% of the words replaced in one
   run; 3-word-shingle Jaccard about 0.85) of documents that carry no other planted debt.
4. **Dominant source** (mixture): the ``web`` source holds about 60% of the tokens.
5. **Early concentration** (order): every ``legal`` document (about 8% of tokens) comes first, so
   the first 5% of tokens is 100% legal.
"""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curadebt.text.tokenize import word_tokenize

MANIFEST_VERSION = 1
CORPUS_FILE = "corpus.jsonl"
PROBES_FILE = "probes.jsonl"
MANIFEST_FILE = "manifest.json"
DEFAULT_DOCS = 3000

# ---------------------------------------------------------------------------------------------
# Built-in vocabulary
# ---------------------------------------------------------------------------------------------

#: (country, capital, region). France, Bolivia and Australia carry the planted facts and never
#: appear in filler text; the other 57 are filler.
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("France", "Paris", "Western Europe"), ("Bolivia", "Sucre", "South America"),
    ("Australia", "Canberra", "Oceania"),
    ("Germany", "Berlin", "Central Europe"), ("Spain", "Madrid", "Southern Europe"),
    ("Italy", "Rome", "Southern Europe"), ("Portugal", "Lisbon", "Southern Europe"),
    ("Netherlands", "Amsterdam", "Western Europe"), ("Belgium", "Brussels", "Western Europe"),
    ("Austria", "Vienna", "Central Europe"), ("Switzerland", "Bern", "Central Europe"),
    ("Poland", "Warsaw", "Central Europe"), ("Hungary", "Budapest", "Central Europe"),
    ("Greece", "Athens", "Southern Europe"), ("Sweden", "Stockholm", "Northern Europe"),
    ("Norway", "Oslo", "Northern Europe"), ("Finland", "Helsinki", "Northern Europe"),
    ("Denmark", "Copenhagen", "Northern Europe"), ("Ireland", "Dublin", "Northern Europe"),
    ("Iceland", "Reykjavik", "Northern Europe"), ("Estonia", "Tallinn", "Northern Europe"),
    ("Romania", "Bucharest", "Eastern Europe"), ("Bulgaria", "Sofia", "Eastern Europe"),
    ("Ukraine", "Kyiv", "Eastern Europe"), ("Turkey", "Ankara", "Western Asia"),
    ("Egypt", "Cairo", "North Africa"), ("Morocco", "Rabat", "North Africa"),
    ("Tunisia", "Tunis", "North Africa"), ("Kenya", "Nairobi", "East Africa"),
    ("Ethiopia", "Addis Ababa", "East Africa"), ("Tanzania", "Dodoma", "East Africa"),
    ("Nigeria", "Abuja", "West Africa"), ("Ghana", "Accra", "West Africa"),
    ("Senegal", "Dakar", "West Africa"), ("Namibia", "Windhoek", "Southern Africa"),
    ("Zambia", "Lusaka", "Southern Africa"), ("India", "New Delhi", "South Asia"),
    ("Nepal", "Kathmandu", "South Asia"), ("Bangladesh", "Dhaka", "South Asia"),
    ("Sri Lanka", "Colombo", "South Asia"), ("Thailand", "Bangkok", "Southeast Asia"),
    ("Vietnam", "Hanoi", "Southeast Asia"), ("Malaysia", "Kuala Lumpur", "Southeast Asia"),
    ("Indonesia", "Jakarta", "Southeast Asia"), ("Philippines", "Manila", "Southeast Asia"),
    ("Japan", "Tokyo", "East Asia"), ("Mongolia", "Ulaanbaatar", "East Asia"),
    ("Canada", "Ottawa", "North America"), ("Honduras", "Tegucigalpa", "Central America"),
    ("Cuba", "Havana", "Caribbean"), ("Jamaica", "Kingston", "Caribbean"),
    ("Paraguay", "Asuncion", "South America"),
    ("Colombia", "Bogota", "South America"), ("Peru", "Lima", "South America"),
    ("Chile", "Santiago", "South America"), ("Argentina", "Buenos Aires", "South America"),
    ("Uruguay", "Montevideo", "South America"), ("Ecuador", "Quito", "South America"),
    ("Fiji", "Suva", "Oceania"), ("Samoa", "Apia", "Oceania"),
)

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
_TAIL_FIRST = ("Alice", "Ben", "Carla", "Daniel", "Eva", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kira",
               "Liam", "Mira", "Noah", "Olga", "Pablo", "Rosa", "Samuel", "Tara", "Umar", "Vera", "Walter",
               "Xenia", "Yusuf", "Zoe", "Adrian", "Bianca", "Conrad", "Delia", "Emil")
_TAIL_LAST = ("Abbott", "Barlow", "Chandler", "Dawson", "Eriksen", "Fischer", "Gallo", "Hartmann", "Ibsen",
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

ORGS = ("Ministry of Transport", "Ministry of Health", "National Statistics Office", "Central Bank",
        "Harbour Authority", "Regional Water Board", "University of Eastbrook", "Institute of Coastal Studies",
        "Consumer Council", "Open Data Initiative", "Federation of Small Businesses", "Academy of Sciences")
TOPICS = ("renewable energy", "public transport", "housing costs", "water policy", "school meals",
          "digital services", "coastal erosion", "food prices", "rail freight", "broadband access",
          "urban cycling", "pension reform", "air quality", "tourism", "fisheries", "wildfire prevention",
          "youth unemployment", "library funding", "electric buses", "recycling rates")
PROFESSIONS = ("architect", "economist", "novelist", "cellist", "marine biologist", "photographer", "chemist",
               "historian", "civil engineer", "film director", "poet", "mathematician", "sculptor", "chef",
               "epidemiologist", "journalist", "botanist", "astronomer")
FIELDS = ("urban design", "labour markets", "climate adaptation", "medieval trade", "protein folding",
          "public health", "soil science", "river ecology", "number theory", "documentary film",
          "glass sculpture", "seabird migration", "food chemistry", "bridge design")
PRODUCTS = ("espresso machine", "pair of trail running shoes", "standing desk", "set of noise-cancelling headphones",
            "robot vacuum", "cast iron skillet", "e-reader", "folding bike", "rice cooker", "mechanical keyboard",
            "hiking backpack", "air fryer", "portable projector", "electric kettle", "sleeping bag")
DISHES = ("lentil soup", "banana bread", "mushroom risotto", "chickpea curry", "lemon tart", "vegetable lasagne",
          "sourdough loaf", "tomato salad", "apple crumble", "black bean chili", "pumpkin soup", "fish stew")
TASKS = ("fix a dripping tap", "repot a houseplant", "back up a laptop", "clean a cast iron pan",
         "patch a bike tyre", "set up a home network", "paint a small room", "sharpen a kitchen knife",
         "descale a kettle", "start a compost heap", "hang a heavy mirror", "bleed a radiator")
ADJ = ("sturdy", "surprisingly quiet", "well made", "a bit heavy", "easy to clean", "good value", "compact",
       "reliable", "overpriced", "simple to set up", "noisy at first", "comfortable")
GOODS = ("coffee", "wheat", "copper", "timber", "textiles", "machinery", "fish", "fruit", "software", "wine",
         "cotton", "steel")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
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

# ---------------------------------------------------------------------------------------------
# Sentence templates, per source. ``[a|b|c]`` picks one alternative; ``{slot}`` is a value: per
# document (person, country, capital, capital2, region, org, topic, profession, field, product, dish,
# task, film, party, party2) or per sentence (adj, good, good2, month, weekday, day, year, num, digit,
# n2, n3, n4, teen, pct). Names are never next to another capitalised word, so entity spans stay clean.
# Alternatives and slots keep two documents of one source far apart in word-shingle terms (no
# accidental near duplicates; tests/test_demo_world.py checks every pair).
# ---------------------------------------------------------------------------------------------

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

_SLOT_RE = re.compile(r"\{(\w+)\}")
_ALT_RE = re.compile(r"\[([^\[\]]*)\]")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PARTIES = (("Licensee", "Licensor"), ("Customer", "Supplier"), ("Client", "Contractor"), ("Buyer", "Seller"),
           ("Tenant", "Landlord"), ("Distributor", "Manufacturer"))


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------

@dataclass
class WorldManifest:
    """Ground truth of a generated world. ``to_json()`` is what ``manifest.json`` holds."""

    seed: int
    n_docs: int
    sources: dict[str, dict[str, Any]]      # source -> {documents, tokens, token_share}
    debts: list[dict[str, Any]]             # planted debts (each: id, dimension, subject, ... exact counts)
    controls: list[dict[str, Any]]          # things that look similar but must not be flagged
    tokens: int = 0
    files: dict[str, str] = field(default_factory=lambda: {"corpus": CORPUS_FILE, "probes": PROBES_FILE,
                                                            "manifest": MANIFEST_FILE})
    version: int = MANIFEST_VERSION
    out_dir: Path | None = None             # where the files are (not written to manifest.json)

    @property
    def corpus_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["corpus"]

    @property
    def probes_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["probes"]

    @property
    def manifest_path(self) -> Path:
        return Path(self.out_dir or ".") / self.files["manifest"]

    def debt(self, debt_id: str) -> dict[str, Any]:
        for d in self.debts:
            if d["id"] == debt_id:
                return d
        raise KeyError(debt_id)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "generator": "curadebt.demo.world", "seed": self.seed,
                "n_docs": self.n_docs, "tokens": self.tokens, "files": dict(self.files),
                "sources": self.sources, "debts": self.debts, "controls": self.controls}

    @classmethod
    def load(cls, path: str | Path) -> "WorldManifest":
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_FILE
        d = json.loads(path.read_text(encoding="utf-8"))
        return cls(seed=d["seed"], n_docs=d["n_docs"], sources=d["sources"], debts=d["debts"],
                   controls=d["controls"], tokens=d.get("tokens", 0), files=d["files"], version=d["version"],
                   out_dir=path.parent)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

def _scaled(count: int, n_docs: int, minimum: int = 1) -> int:
    return max(minimum, round(count * n_docs / DEFAULT_DOCS))


#: template slots filled per sentence (not from the document's context): a word drawn from a list ...
_CHOICE_SLOTS = {"adj": ADJ, "good": GOODS, "good2": GOODS, "month": MONTHS, "weekday": WEEKDAYS}
#: ... or an integer drawn from an inclusive range
_INT_SLOTS = {"digit": (0, 9), "teen": (14, 18), "n4": (5, 400), "day": (1, 28), "year": (1950, 2023),
              "num": (2, 95), "n2": (3, 40), "n3": (5, 400), "pct": (2, 60)}


class _Writer:
    """Draws slot values and assembles documents from templates."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tail_people: list[str] = []

    def person(self) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            return rng.choice(PEOPLE)
        # long tail: mostly new names, sometimes a repeat of an earlier tail name
        if self.tail_people and rng.random() < 0.25:
            return rng.choice(self.tail_people)
        name = f"{rng.choice(_TAIL_FIRST)} {rng.choice(_TAIL_LAST)}"
        self.tail_people.append(name)
        return name

    def context(self) -> dict[str, str]:
        rng = self.rng
        country, capital, region = rng.choice(FILLER_COUNTRIES)
        party, party2 = rng.choice(PARTIES)
        return {
            "country": country, "capital": capital, "region": region, "person": self.person(),
            "capital2": rng.choice(FILLER_COUNTRIES)[1], "party": party, "party2": party2,
            "person2": self.person(), "org": rng.choice(ORGS), "topic": rng.choice(TOPICS),
            "profession": rng.choice(PROFESSIONS), "field": rng.choice(FIELDS), "product": rng.choice(PRODUCTS),
            "dish": rng.choice(DISHES), "task": rng.choice(TASKS), "film": rng.choice(FILM_WORDS),
        }

    def fill(self, template: str, ctx: dict[str, str]) -> str:
        rng = self.rng
        template = _ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
        local = dict(ctx)
        for slot in _SLOT_RE.findall(template):
            if slot in local:
                continue
            if slot in _CHOICE_SLOTS:
                local[slot] = rng.choice(_CHOICE_SLOTS[slot])
            elif slot in _INT_SLOTS:
                local[slot] = str(rng.randint(*_INT_SLOTS[slot]))
            else:  # pragma: no cover - a template typo
                raise KeyError(f"unknown slot {slot!r} in {template!r}")
        return template.format(**local)

    def sentences(self, source: str) -> list[str]:
        """Filler sentences for one document of ``source`` (about the source's target length)."""
        rng = self.rng
        templates = SOURCE_TEMPLATES[source]
        lo, hi = SOURCE_LENGTH[source]
        target = rng.randint(lo, hi)
        ctx = self.context()
        order = list(range(len(templates)))
        rng.shuffle(order)
        out: list[str] = []
        words = 0
        i = 0
        while words < target:
            t = templates[order[i % len(order)]]
            i += 1
            s = self.fill(t, ctx)
            if i % 4 == 0:  # a new person now and then, so documents are not about one name only
                ctx["person"] = self.person()
            out.append(s)
            words += len(s.split())
        return out


def _layout(source: str, sentences: list[str], rng: random.Random) -> str:
    """Join sentences into a document; paragraphs and line breaks depend on the source."""
    if source == "forum":
        return "\n".join(sentences)
    if source in ("encyclopedia", "web", "news") and len(sentences) > 4:
        cut = rng.randint(2, len(sentences) - 2)
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def _whitespace_variant(text: str, rng: random.Random) -> str:
    """Same words, different whitespace (a copy an exact-duplicate key must still match)."""
    kind = rng.randrange(3)
    if kind == 0:
        return "  " + text + "\n"
    if kind == 1:
        parts = text.split(" ")
        k = rng.randrange(1, len(parts))
        return " ".join(parts[:k]) + "   " + " ".join(parts[k:])
    out = text.replace(". ", ".  ")
    return out if out != text else text + "\n"


def _near_copy(text: str, rng: random.Random, fraction: float) -> tuple[str, int]:
    """Replace about ``fraction`` of the words in one contiguous run (a rewritten phrase).
    Returns (text, words edited)."""
    tokens = re.split(r"(\s+)", text)  # words at even indices, whitespace at odd ones
    word_idx = [i for i in range(0, len(tokens), 2) if tokens[i]]
    n_edit = max(2, round(fraction * len(word_idx)))
    start = rng.randrange(0, len(word_idx) - n_edit + 1)
    for j in word_idx[start:start + n_edit]:
        old = tokens[j]
        new = rng.choice(EDIT_WORDS)
        while new == old:
            new = rng.choice(EDIT_WORDS)
        tokens[j] = new
    return "".join(tokens), n_edit


def shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    """Word k-shingles (word tokens, case kept, as the duplicates measure uses); reports near-copy
    similarity."""
    toks = word_tokenize(text)
    return {tuple(toks[i:i + k]) for i in range(max(1, len(toks) - k + 1))}


def jaccard(a: str, b: str, k: int = 3) -> float:
    sa, sb = shingles(a, k), shingles(b, k)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def _insert(sentences: list[str], extra: list[str], rng: random.Random) -> list[str]:
    out = list(sentences)
    for s in extra:
        out.insert(rng.randint(0, len(out)), s)
    return out


def generate_world(out_dir: str | Path, seed: int = 0, n_docs: int = DEFAULT_DOCS) -> WorldManifest:
    """Generate the demo corpus, probes and manifest under ``out_dir``; same seed, same bytes."""
    if n_docs < 300:
        raise ValueError("n_docs must be at least 300 (the planted debts need room)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    writer = _Writer(rng)

    # 1. plan the unique documents: (source, plant) where plant is None, ("tom", name, mentions)
    #    or ("fact", probe_id, subject, answer).
    n_exact_cookie = _scaled(EXACT_COPIES_COOKIE, n_docs)
    n_exact_other = _scaled(EXACT_COPIES_OTHER, n_docs)
    n_near = _scaled(NEAR_COPIES, n_docs)
    n_unique = n_docs - n_exact_cookie - n_exact_other - n_near
    counts = {s: _scaled(c, n_docs) for s, c in SOURCE_DOCS.items()}
    counts["web"] += n_unique - sum(counts.values())  # web absorbs rounding
    if counts["web"] < n_unique // 4:
        raise ValueError("n_docs too small")
    plan: list[dict[str, Any]] = []
    for source in SOURCE_ORDER:
        plan.extend({"source": source, "plant": None} for _ in range(counts[source]))
    # one web document is the cookie notice (the base of the largest exact cluster)
    cookie_index = next(i for i, p in enumerate(plan) if p["source"] == "web")
    plan[cookie_index]["plant"] = ("cookie",)

    def free_slots(sources: tuple[str, ...]) -> list[int]:
        return [i for i, p in enumerate(plan) if p["plant"] is None and p["source"] in sources]

    def assign(sources: tuple[str, ...], k: int, plant: tuple) -> list[int]:
        chosen = rng.sample(free_slots(sources), k)
        for i in chosen:
            plan[i]["plant"] = plant
        return chosen

    # Tom Cruise and the other Toms
    tom_plan = {TOM_CRUISE: _scaled(TOM_CRUISE_DOCS, n_docs)}
    for name in OTHER_TOMS:
        tom_plan[name] = rng.randint(2, 5)
    for name, k in tom_plan.items():
        srcs = ("news", "web", "forum") if name == TOM_CRUISE else ("news", "web", "forum", "encyclopedia")
        for i in rng.sample(free_slots(srcs), k):
            plan[i]["plant"] = ("tom", name, 1 + (rng.random() < 0.4) if name == TOM_CRUISE else 1)
    # facts
    for probe_id, subject, answers, _ in FACTS:
        for answer, k in answers:
            assign(("news", "web", "forum", "encyclopedia"), _scaled(k, n_docs), ("fact", probe_id, subject, answer))

    # 2. write the unique documents; a text that repeats an earlier one (whitespace aside) is redrawn,
    #    so the only duplicates are the planted ones.
    def make_text(p: dict[str, Any]) -> str:
        source, plant = p["source"], p["plant"]
        sents = writer.sentences(source)
        if plant is not None and plant[0] == "tom":
            ctx = writer.context()
            ctx["tom"] = plant[1]
            picks = rng.sample(TOM_SENTENCES, plant[2])
            sents = _insert(sents, [writer.fill(t, ctx) for t in picks], rng)
        elif plant is not None and plant[0] == "fact":
            use_pattern = rng.random() < 0.6
            pool = FACT_PATTERN_SENTENCES if use_pattern else FACT_FREE_SENTENCES
            sents = _insert(sents, [rng.choice(pool).format(subject=plant[2], answer=plant[3])], rng)
            p["pattern"] = use_pattern
        return _layout(source, sents, rng)

    seen: set[str] = set()
    fact_pattern_docs: dict[tuple[str, str], int] = {}
    checked: dict[str, list[set]] = {s: [] for s in SIMILARITY_CHECKED_SOURCES}

    def accidental(p: dict[str, Any]) -> bool:
        if " ".join(p["text"].split()) in seen:
            return True
        if p["source"] in checked:
            sh = shingles(p["text"])
            n, limit = len(sh), MAX_ACCIDENTAL_JACCARD / (1 + MAX_ACCIDENTAL_JACCARD)
            # J >= t  <=>  |a & b| >= t / (1 + t) * (|a| + |b|)
            return any(len(sh & o) >= limit * (n + len(o)) for o in checked[p["source"]])
        return False

    for p in plan:
        if p["plant"] == ("cookie",):
            p["text"] = COOKIE_NOTICE
        else:
            p["text"] = make_text(p)
            while accidental(p):
                p["text"] = make_text(p)
        seen.add(" ".join(p["text"].split()))
        if p["source"] in checked:
            checked[p["source"]].append(shingles(p["text"]))
        if p["plant"] is not None and p["plant"][0] == "fact":
            k = (p["plant"][1], p["plant"][3])
            fact_pattern_docs[k] = fact_pattern_docs.get(k, 0) + int(p["pattern"])

    # 3. copies: exact (cookie x N, others 1-3 each, a third with whitespace changes) and near
    copies: list[dict[str, Any]] = []
    for _ in range(n_exact_cookie):
        copies.append({"source": "web", "text": COOKIE_NOTICE, "copy_of": cookie_index, "kind": "exact",
                       "whitespace": False})
    neutral = [i for i, p in enumerate(plan) if p["plant"] is None and p["source"] in ("web", "news", "forum")]
    rng.shuffle(neutral)
    exact_bases: list[int] = []
    left = n_exact_other
    while left > 0:
        base = neutral.pop()
        k = min(left, rng.choices((1, 2, 3), weights=(70, 25, 5))[0])
        exact_bases.append(base)
        for _ in range(k):
            ws = rng.random() < 1 / 3
            text = _whitespace_variant(plan[base]["text"], rng) if ws else plan[base]["text"]
            copies.append({"source": plan[base]["source"], "text": text, "copy_of": base, "kind": "exact",
                           "whitespace": ws})
        left -= k
    near_pool = [i for i in neutral if plan[i]["source"] == "web"]  # long enough for a 5% edit
    near_bases: list[int] = []
    left = n_near
    jaccards: list[float] = []
    while left > 0:
        base = near_pool.pop()
        neutral.remove(base)
        k = min(left, rng.choices((1, 2), weights=(60, 40))[0])
        near_bases.append(base)
        for _ in range(k):
            text, _edited = _near_copy(plan[base]["text"], rng, NEAR_EDIT_FRACTION)
            jaccards.append(jaccard(text, plan[base]["text"]))
            copies.append({"source": plan[base]["source"], "text": text, "copy_of": base, "kind": "near",
                           "whitespace": False})
        left -= k

    # 4. order: every legal document first (in plan order), then everything else shuffled
    legal = [p for p in plan if p["source"] == "legal"]
    rest = [p for p in plan if p["source"] != "legal"] + copies
    rng.shuffle(rest)
    docs = legal + rest
    for n, p in enumerate(docs):
        p["id"] = f"doc-{n:05d}"

    # 5. write files
    with open(out / CORPUS_FILE, "w", encoding="utf-8", newline="\n") as fh:
        for p in docs:
            fh.write(json.dumps({"id": p["id"], "text": p["text"], "source": p["source"]}, ensure_ascii=False) + "\n")
    with open(out / PROBES_FILE, "w", encoding="utf-8", newline="\n") as fh:
        for probe_id, subject, answers, _ in FACTS:
            fh.write(json.dumps({"id": probe_id, "subject": subject, "answers": [a for a, _ in answers],
                                 "patterns": list(PROBE_PATTERNS)}, ensure_ascii=False) + "\n")

    manifest = _manifest(seed, n_docs, plan, docs, copies, cookie_index, exact_bases, near_bases, jaccards,
                         tom_plan, fact_pattern_docs)
    manifest.out_dir = out
    (out / MANIFEST_FILE).write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=False) + "\n",
                                     encoding="utf-8", newline="\n")
    return manifest


def _manifest(seed, n_docs, plan, docs, copies, cookie_index, exact_bases, near_bases, jaccards, tom_plan,
              fact_pattern_docs) -> WorldManifest:
    # sources: documents and word tokens
    src: dict[str, dict[str, Any]] = {s: {"documents": 0, "tokens": 0} for s in SOURCE_ORDER}
    total = 0
    for p in docs:
        n = len(word_tokenize(p["text"]))
        src[p["source"]]["documents"] += 1
        src[p["source"]]["tokens"] += n
        total += n
    for s in src.values():
        s["token_share"] = round(s["tokens"] / total, 6)
    sources = dict(sorted(src.items(), key=lambda kv: (-kv[1]["tokens"], kv[0])))

    # Tom: every "Tom" token in the corpus belongs to one of the planted Tom people
    mentions = {name: 0 for name in tom_plan}
    documents = {name: 0 for name in tom_plan}
    for p in plan:
        if p["plant"] is not None and p["plant"][0] == "tom":
            mentions[p["plant"][1]] += p["plant"][2]
            documents[p["plant"][1]] += 1
    tom_tokens = sum(mentions.values())
    others = {n: mentions[n] for n in OTHER_TOMS}
    other_inside = sorted(others.values())
    median_other = (other_inside[len(other_inside) // 2] if len(other_inside) % 2
                    else (other_inside[len(other_inside) // 2 - 1] + other_inside[len(other_inside) // 2]) / 2)
    tc = mentions[TOM_CRUISE]
    debts: list[dict[str, Any]] = [{
        "id": "salience-tom-cruise", "dimension": "salience", "kind": "over-represented entity (token spillover)",
        "subject": "Tom", "entity": TOM_CRUISE,
        "entity_documents": documents[TOM_CRUISE], "entity_mentions": tc, "token_count": tom_tokens,
        "share": round(tc / tom_tokens, 6),
        "lift": round(tom_tokens / (tom_tokens - tc + median_other), 6),
        "other_entities": dict(sorted(others.items())),
        "other_documents": dict(sorted((n, documents[n]) for n in OTHER_TOMS)),
        "description": f"'Tom' is {tc / tom_tokens:.0%} '{TOM_CRUISE}' ({tc} of {tom_tokens} occurrences); "
                       f"{len(OTHER_TOMS)} other 'Tom X' people share the rest",
    }]

    controls: list[dict[str, Any]] = []
    for probe_id, subject, answers, planted in FACTS:
        rows = {}
        for answer, _ in answers:
            k = sum(1 for p in plan if p["plant"] is not None and p["plant"][0] == "fact"
                    and p["plant"][1] == probe_id and p["plant"][3] == answer)
            rows[answer] = {"documents": k, "sentences": k, "pattern_matches": fact_pattern_docs.get((probe_id, answer), 0)}
        ranked = sorted(rows, key=lambda a: (-rows[a]["sentences"], a))
        top, runner = ranked[0], ranked[1]
        ratio = (rows[top]["sentences"] + 1) / (rows[runner]["sentences"] + 1)
        entry = {
            "id": f"probes-{probe_id}", "dimension": "probes", "kind": "dominant fact over its rivals",
            "subject": subject, "probe_id": probe_id, "answers": rows, "top_answer": top, "runner_up": runner,
            "raw_ratio": round(rows[top]["sentences"] / max(rows[runner]["sentences"], 1), 6),
            "dominance_ratio": round(ratio, 6),
            "description": f"{probe_id}: '{top}' {rows[top]['sentences']} vs '{runner}' {rows[runner]['sentences']} "
                           "sentences",
        }
        (debts if planted else controls).append(entry)

    exact_docs = sum(1 for c in copies if c["kind"] == "exact")
    near_docs = sum(1 for c in copies if c["kind"] == "near")
    debts.append({
        "id": "duplicates", "dimension": "duplicates", "kind": "exact and near duplicates",
        "subject": "documents",
        "exact_duplicate_documents": exact_docs,
        "exact_clusters": 1 + len(exact_bases),
        "whitespace_variants": sum(1 for c in copies if c["whitespace"]),
        "near_duplicate_documents": near_docs, "near_clusters": len(near_bases),
        "duplicate_share": round((exact_docs + near_docs) / len(docs), 6),
        "largest_cluster": {"kind": "exact", "size": 1 + sum(1 for c in copies if c["copy_of"] == cookie_index),
                            "representative": plan[cookie_index]["id"],
                            "ids": sorted([plan[cookie_index]["id"]] + [c["id"] for c in copies
                                                                         if c["copy_of"] == cookie_index])},
        "near_edit_fraction": NEAR_EDIT_FRACTION,
        "copies": [{"id": c["id"], "copy_of": plan[c["copy_of"]]["id"], "kind": c["kind"],
                    "whitespace_changed": c["whitespace"]} for c in sorted(copies, key=lambda c: c["id"])],
        "near_jaccard_3word": {"min": round(min(jaccards), 4), "mean": round(sum(jaccards) / len(jaccards), 4)},
        "description": f"{exact_docs} exact copies in {1 + len(exact_bases)} clusters and {near_docs} near copies "
                       f"in {len(near_bases)} clusters ({(exact_docs + near_docs) / len(docs):.1%} of documents)",
    })
    top_source = next(iter(sources))
    debts.append({
        "id": "mixture-dominant-source", "dimension": "mixture", "kind": "dominant source",
        "subject": top_source, "token_share": sources[top_source]["token_share"],
        "description": f"source '{top_source}' holds {sources[top_source]['token_share']:.0%} of tokens",
    })
    legal_tokens = sources["legal"]["tokens"]
    n_legal = sources["legal"]["documents"]
    debts.append({
        "id": "order-early-legal", "dimension": "order", "kind": "topic concentrated early",
        "subject": "legal", "documents": n_legal, "first_position": 0, "last_position": n_legal - 1,
        "token_share": sources["legal"]["token_share"],
        "ends_at_token_fraction": round(legal_tokens / total, 6),
        "description": f"all {n_legal} 'legal' documents come first: the first "
                       f"{legal_tokens / total:.1%} of tokens is 100% legal",
    })
    trigrams: Counter = Counter()
    n_tri = 0
    for p in docs:
        toks = word_tokenize(p["text"])
        trigrams.update(" ".join(toks[i:i + 3]) for i in range(len(toks) - 2))
        n_tri += max(0, len(toks) - 2)
    top = sorted(trigrams.items(), key=lambda kv: (-kv[1], kv[0]))
    coverage = sum(c for _, c in top[:100]) / n_tri
    debts.append({
        "id": "frequency-templated-text", "dimension": "frequency", "kind": "repetitive phrasing",
        "subject": "3-grams", "trigrams": n_tri, "top100_coverage_3gram": round(coverage, 6),
        "top": [[g, c] for g, c in top[:5]],
        "description": f"the whole world is written from about {_n_templates()} sentence templates: the 100 most "
                       f"frequent 3-grams cover {coverage:.0%} of all 3-grams (natural prose: 1-4%)",
    })
    controls.append({"id": "salience-recurring-people", "dimension": "salience",
                     "kind": "recurring people with unshared name tokens",
                     "description": "the 100 recurring people use first and last names that no other entity "
                                    "uses, so no spillover is expected from them"})
    return WorldManifest(seed=seed, n_docs=n_docs, sources=sources, debts=debts, controls=controls, tokens=total)


def _n_templates() -> int:
    return (sum(len(t) for t in SOURCE_TEMPLATES.values()) + len(TOM_SENTENCES) + len(FACT_PATTERN_SENTENCES)
            + len(FACT_FREE_SENTENCES))


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - thin wrapper
    import argparse

    ap = argparse.ArgumentParser(description="Generate the curadebt demo world (corpus, probes, manifest).")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs", type=int, default=DEFAULT_DOCS)
    args = ap.parse_args(argv)
    m = generate_world(args.out_dir, seed=args.seed, n_docs=args.docs)
    print(json.dumps(m.to_json(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
