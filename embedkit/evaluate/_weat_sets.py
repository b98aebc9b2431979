"""The word sets of the ten WEAT tests of Caliskan, Bryson & Narayanan (2017), "Semantics derived
automatically from language corpora contain human-like biases", Science 356(6334):183-186,
Tables 1 and S1, which take them from the IAT studies named below. As in the paper's own code,
the names that were too rare in its corpus are left out, so that both target sets keep the
same size (32 and 32 in WEAT 3, 16 and 16 in WEATs 4 and 5).

Each test: (targets X, targets Y, attributes A, attributes B), each a (name, words) pair.
The paper expects X with A and Y with B (a positive effect size).
"""
from __future__ import annotations

FLOWERS = ("flowers", ("aster", "clover", "hyacinth", "marigold", "poppy", "azalea", "crocus", "iris", "orchid",
                       "rose", "bluebell", "daffodil", "lilac", "pansy", "tulip", "buttercup", "daisy", "lily",
                       "peony", "violet", "carnation", "gladiola", "magnolia", "petunia", "zinnia"))
INSECTS = ("insects", ("ant", "caterpillar", "flea", "locust", "spider", "bedbug", "centipede", "fly", "maggot",
                       "tarantula", "bee", "cockroach", "gnat", "mosquito", "termite", "beetle", "cricket", "hornet",
                       "moth", "wasp", "blackfly", "dragonfly", "horsefly", "roach", "weevil"))
INSTRUMENTS = ("instruments", ("bagpipe", "cello", "guitar", "lute", "trombone", "banjo", "clarinet", "harmonica",
                               "mandolin", "trumpet", "bassoon", "drum", "harp", "oboe", "tuba", "bell", "fiddle",
                               "harpsichord", "piano", "viola", "bongo", "flute", "horn", "saxophone", "violin"))
WEAPONS = ("weapons", ("arrow", "club", "gun", "missile", "spear", "axe", "dagger", "harpoon", "pistol", "sword",
                       "blade", "dynamite", "hatchet", "rifle", "tank", "bomb", "firearm", "knife", "shotgun",
                       "teargas", "cannon", "grenade", "mace", "slingshot", "whip"))
PLEASANT = ("pleasant", ("caress", "freedom", "health", "love", "peace", "cheer", "friend", "heaven", "loyal",
                         "pleasure", "diamond", "gentle", "honest", "lucky", "rainbow", "diploma", "gift", "honor",
                         "miracle", "sunrise", "family", "happy", "laughter", "paradise", "vacation"))
UNPLEASANT = ("unpleasant", ("abuse", "crash", "filth", "murder", "sickness", "accident", "death", "grief", "poison",
                             "stink", "assault", "disaster", "hatred", "pollute", "tragedy", "divorce", "jail",
                             "poverty", "ugly", "cancer", "kill", "rotten", "vomit", "agony", "prison"))
# WEATs 3 and 4 swap "agony" and "prison" for "bomb" and "evil"
UNPLEASANT_3 = ("unpleasant", ("abuse", "crash", "filth", "murder", "sickness", "accident", "death", "grief",
                               "poison", "stink", "assault", "disaster", "hatred", "pollute", "tragedy", "bomb",
                               "divorce", "jail", "poverty", "ugly", "cancer", "evil", "kill", "rotten", "vomit"))
PLEASANT_5 = ("pleasant", ("joy", "love", "peace", "wonderful", "pleasure", "friend", "laughter", "happy"))
UNPLEASANT_5 = ("unpleasant", ("agony", "terrible", "horrible", "nasty", "evil", "war", "awful", "failure"))

# Greenwald, McGhee & Schwartz (1998)
EUROPEAN_AMERICAN_3 = ("european-american names", (
    "Adam", "Harry", "Josh", "Roger", "Alan", "Frank", "Justin", "Ryan", "Andrew", "Jack", "Matthew", "Stephen",
    "Brad", "Greg", "Paul", "Jonathan", "Peter", "Amanda", "Courtney", "Heather", "Melanie", "Katie", "Betsy",
    "Kristin", "Nancy", "Stephanie", "Ellen", "Lauren", "Colleen", "Emily", "Megan", "Rachel"))
AFRICAN_AMERICAN_3 = ("african-american names", (
    "Alonzo", "Jamel", "Theo", "Alphonse", "Jerome", "Leroy", "Torrance", "Darnell", "Lamar", "Lionel", "Tyree",
    "Deion", "Lamont", "Malik", "Terrence", "Tyrone", "Lavon", "Marcellus", "Wardell", "Nichelle", "Shereen",
    "Ebony", "Latisha", "Shaniqua", "Jasmine", "Tanisha", "Tia", "Lakisha", "Latoya", "Yolanda", "Malika", "Yvette"))
# Bertrand & Mullainathan (2004)
EUROPEAN_AMERICAN_4 = ("european-american names", (
    "Todd", "Neil", "Geoffrey", "Brett", "Brendan", "Greg", "Matthew", "Brad", "Allison", "Anne", "Carrie", "Emily",
    "Jill", "Laurie", "Meredith", "Sarah"))
AFRICAN_AMERICAN_4 = ("african-american names", (
    "Kareem", "Darnell", "Tyrone", "Hakim", "Jamal", "Leroy", "Jermaine", "Rasheed", "Aisha", "Ebony", "Keisha",
    "Kenya", "Lakisha", "Latoya", "Tamika", "Tanisha"))
# Nosek, Banaji & Greenwald (2002)
MALE_NAMES = ("male names", ("John", "Paul", "Mike", "Kevin", "Steve", "Greg", "Jeff", "Bill"))
FEMALE_NAMES = ("female names", ("Amy", "Joan", "Lisa", "Sarah", "Diana", "Kate", "Ann", "Donna"))
CAREER = ("career", ("executive", "management", "professional", "corporation", "salary", "office", "business",
                     "career"))
FAMILY = ("family", ("home", "parents", "children", "family", "cousins", "marriage", "wedding", "relatives"))
MATH = ("math", ("math", "algebra", "geometry", "calculus", "equations", "computation", "numbers", "addition"))
ARTS_7 = ("arts", ("poetry", "art", "dance", "literature", "novel", "symphony", "drama", "sculpture"))
MALE_TERMS_7 = ("male terms", ("male", "man", "boy", "brother", "he", "him", "his", "son"))
FEMALE_TERMS_7 = ("female terms", ("female", "woman", "girl", "sister", "she", "her", "hers", "daughter"))
SCIENCE = ("science", ("science", "technology", "physics", "chemistry", "Einstein", "NASA", "experiment",
                       "astronomy"))
ARTS_8 = ("arts", ("poetry", "art", "Shakespeare", "dance", "literature", "novel", "symphony", "drama"))
MALE_TERMS_8 = ("male terms", ("brother", "father", "uncle", "grandfather", "son", "he", "his", "him"))
FEMALE_TERMS_8 = ("female terms", ("sister", "mother", "aunt", "grandmother", "daughter", "she", "hers", "her"))
# Monteith & Pettit (2011)
MENTAL_DISEASE = ("mental disease", ("sad", "hopeless", "gloomy", "tearful", "miserable", "depressed"))
PHYSICAL_DISEASE = ("physical disease", ("sick", "illness", "influenza", "disease", "virus", "cancer"))
TEMPORARY = ("temporary", ("impermanent", "unstable", "variable", "fleeting", "short-term", "brief", "occasional"))
PERMANENT = ("permanent", ("stable", "always", "constant", "persistent", "chronic", "prolonged", "forever"))
YOUNG_NAMES = ("young people's names", ("Tiffany", "Michelle", "Cindy", "Kristy", "Brad", "Eric", "Joey", "Billy"))
OLD_NAMES = ("old people's names", ("Ethel", "Bernice", "Gertrude", "Agnes", "Cecil", "Wilbert", "Mortimer", "Edgar"))

#: name -> (X, Y, A, B); the paper's numbering, and a descriptive alias for each
TESTS = {
    "weat1": (FLOWERS, INSECTS, PLEASANT, UNPLEASANT),
    "weat2": (INSTRUMENTS, WEAPONS, PLEASANT, UNPLEASANT),
    "weat3": (EUROPEAN_AMERICAN_3, AFRICAN_AMERICAN_3, PLEASANT, UNPLEASANT_3),
    "weat4": (EUROPEAN_AMERICAN_4, AFRICAN_AMERICAN_4, PLEASANT, UNPLEASANT_3),
    "weat5": (EUROPEAN_AMERICAN_4, AFRICAN_AMERICAN_4, PLEASANT_5, UNPLEASANT_5),
    "weat6": (MALE_NAMES, FEMALE_NAMES, CAREER, FAMILY),
    "weat7": (MATH, ARTS_7, MALE_TERMS_7, FEMALE_TERMS_7),
    "weat8": (SCIENCE, ARTS_8, MALE_TERMS_8, FEMALE_TERMS_8),
    "weat9": (MENTAL_DISEASE, PHYSICAL_DISEASE, TEMPORARY, PERMANENT),
    "weat10": (YOUNG_NAMES, OLD_NAMES, PLEASANT_5, UNPLEASANT_5),
}
ALIASES = {
    "flowers-insects": "weat1", "instruments-weapons": "weat2", "names-pleasantness": "weat3",
    "names-pleasantness-bertrand": "weat4", "names-pleasantness-bertrand-short": "weat5",
    "career-family": "weat6", "math-arts": "weat7", "science-arts": "weat8", "illness-permanence": "weat9",
    "age-pleasantness": "weat10",
}
#: the effect sizes the paper reports for GloVe (Common Crawl, 840B tokens), Table 1
PAPER_EFFECT_SIZES = {"weat1": 1.50, "weat2": 1.53, "weat3": 1.41, "weat4": 1.50, "weat5": 1.28, "weat6": 1.81,
                      "weat7": 1.06, "weat8": 1.24, "weat9": 1.38, "weat10": 1.21}
