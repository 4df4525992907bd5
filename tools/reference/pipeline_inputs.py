"""The inputs of the pipeline goldens (pipeline_goldens.py): plain data, no logic.

Changing anything here changes the derived tokenizer's vocabulary, so rerun the whole script.
"""

# ~300 words: longer than the tiny models' 128 positions, so it exercises truncation
# (text-classification, feature-extraction), chunking with stride (token-classification) and
# doc_stride (question-answering).
LONG_TEXT = (
    "The old harbour of Thessaloniki wakes up early. By six in the morning the fishermen have "
    "already sold most of their catch, and the cafés along the waterfront fill with students, "
    "sailors and tired musicians. Maria Papadopoulos, who has run a small bakery near the White "
    "Tower since 1987, says that the city changed more in the last ten years than in the forty "
    "before. Tourists arrive from Vienna, Krakow and Tel Aviv on cheap flights, and on summer "
    "weekends the ferries to the islands carry more than 12,000 passengers a day. Her nephew, "
    "Konstantinos, studied computer science at the University of Edinburgh and came back in 2019 "
    "to open a company that builds booking software for small hotels. The company, Aegean Data "
    "Systems, now employs 45 people and has offices in Athens and Berlin. Not everyone is happy "
    "about the change. Rents in the centre have doubled, and many families who lived there for "
    "generations have moved to the suburbs of Kalamaria and Evosmos. The mayor promised in March "
    "to build 3,500 new apartments before 2030, but the plan is still waiting for approval from "
    "the ministry. In the evenings, when the wind comes from the sea, the promenade is crowded "
    "with people walking slowly, eating ice cream and arguing about football. Supporters of PAOK "
    "and Aris rarely agree on anything, except that the best souvlaki in the city is sold by a "
    "man called Yiannis from a tiny shop behind the market. He opened it with his brother in "
    "1974, the year the dictatorship ended, and he still works there every day except Sunday. "
    "When journalists ask him for the secret of his recipe, he laughs and says that there is "
    "no secret at all: good bread, fresh meat, a little oregano, and patience. Then he goes back "
    "to work, because the queue outside is already twenty people long and the night has only "
    "just begun."
)

# About 25 varied sentences: names (several split into subwords), places, organisations,
# punctuation, numbers, an accented word, a question, an all-caps word, and the long text.
SENTENCES = [
    "I absolutely loved this movie, the acting was wonderful!",
    "The service was slow and the food arrived cold.",
    "The meeting is scheduled for Tuesday at 10 a.m.",
    "My name is Wolfgang and I live in Berlin.",
    "Krzysztof Kieslowski directed the film in Warsaw in 1988.",
    "Sarah Johnson works for the United Nations in Geneva.",
    "Apple announced a new iPhone in Cupertino, California.",
    "Ouagadougou is the capital of Burkina Faso.",
    "Barack Obama met Angela Merkel at the White House.",
    "We had coffee at the café in Zürich before the train left.",
    "Hugging Face is a company based in New York City.",
    "The price rose by 3.5% to $1,249.99 on Monday.",
    "Is this the way to Amarillo?",
    "WARNING: do NOT open the door!!!",
    "Schwarzenegger was born in Thal, Austria, in 1947.",
    "The Eiffel Tower is 330 metres tall.",
    "Dr. Nakamura and Prof. O'Brien published the paper together.",
    "Microsoft and Google compete in the cloud market.",
    "The children played football in the park until it rained.",
    "I'm not sure whether I like it or not.",
    "Tolkien wrote The Lord of the Rings at Oxford.",
    "She flew from Buenos Aires to Reykjavik via Madrid.",
    "This is the worst product I have ever bought.",
    "The weather in London is quite nice today.",
    LONG_TEXT,
]

QA = [
    {"question": "Where does Wolfgang live?",
     "context": "My name is Wolfgang and I live in Berlin. I work as a carpenter."},
    {"question": "Who directed the film?",
     "context": "Krzysztof Kieslowski directed the film in Warsaw in 1988. It won several "
                "awards in Venice."},
    {"question": "How tall is the Eiffel Tower?",
     "context": "The Eiffel Tower is 330 metres tall. It was completed in 1889 for the World's "
                "Fair in Paris."},
    {"question": "What is the capital of Burkina Faso?",
     "context": "Ouagadougou is the capital of Burkina Faso. It is also the largest city of the "
                "country."},
    {"question": "When did Maria open her bakery?", "context": LONG_TEXT},
    {"question": "Who sells the best souvlaki in the city?", "context": LONG_TEXT},
    {"question": "How many people does the company employ?", "context": LONG_TEXT},
]

# Non-ASCII contexts: character vs byte offsets (the byte-level BPE models).
QA_ACCENTS = [
    {"question": "Where did we have coffee?",
     "context": "We had coffee at the café in Zürich before the train left for München."},
    {"question": "Who wrote the letter?",
     "context": "Die Übersetzung stammt von Clémence Dupré; the letter itself was written by "
                "Søren Kierkegaard in Copenhagen."},
]

FILL_MASK = [
    "Paris is the [MASK] of France.",
    "The [MASK] sat on the mat.",
    "I went to the [MASK] to buy some bread.",
    "She is a very [MASK] person.",
    "The meeting is on [MASK] morning.",
    "He [MASK] the ball to his brother.",
]
FILL_MASK_TWO = "The [MASK] of the [MASK] is here."
FILL_MASK_TARGETS = ["city", "capital", "house", "country"]

ZERO_SHOT = [
    "Barack Obama met Angela Merkel at the White House.",
    "The children played football in the park until it rained.",
    "The price rose by 3.5% to $1,249.99 on Monday.",
    "We had coffee at the café in Zürich before the train left.",
]
ZERO_SHOT_LABELS = ["politics", "sports", "economy", "travel"]
ZERO_SHOT_TEMPLATE = "This text is about {}."

RANKING = [
    {"query": "What is the capital of France?",
     "texts": ["Paris is the capital of France.",
               "Berlin is the capital of Germany.",
               "The Eiffel Tower is 330 metres tall.",
               "I like bread with cheese."]},
    {"query": "Who directed the film?",
     "texts": ["Krzysztof Kieslowski directed the film in Warsaw in 1988.",
               "The weather in London is quite nice today.",
               "Tolkien wrote The Lord of the Rings at Oxford."]},
]

# Labels of the tiny heads (readable, in id order).
SENTIMENT_LABELS = ["NEGATIVE", "NEUTRAL", "POSITIVE"]
TOPIC_LABELS = ["politics", "sports", "science", "arts"]
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
# The order of the published MNLI heads (e.g. facebook/bart-large-mnli): entailment is not id 0.
NLI_LABELS = ["contradiction", "neutral", "entailment"]
