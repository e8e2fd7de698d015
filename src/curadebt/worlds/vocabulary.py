"""Word tables shared by the synthetic worlds (the demo corpus, the lab's fact world): countries with
their capitals, organisations, topics, professions, products... Plain tuples, fixed order."""
from __future__ import annotations


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
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
