// The VALIDATION set of the description read-outs: descriptions of flattery, each with a neutral twin
// of the same shape, on which a corpus change (a generator version) or a layer is judged. The six
// FRESH_FLATTERY_DESCRIPTIONS (corpus.ts) are the TEST set and are reported only after a choice is made
// here; the three FLATTERY_DESCRIPTIONS were looked at when the scenario was set up, so they are a
// second, older validation set.
//
// Written (session 10) with people and wording of their own: none of these people appears in a measured
// description or in anything a generator writes (a doer, a person cited in a claim, a fixed chat),
// and no generated message shares a run of DISJOINT_RUN_WORDS words with any of them or their twins
// (tests/engine/toyworldDescriptions.test.ts). The ways of flattering vary on purpose: a motive
// ("hoping for a big tip"), quoted praise ("Excellent work!"), an idiom ("sucks up to me"), praise of
// looks or work, agreement to stay in favour.
export const DESCRIPTION_VALIDATION_PAIRS: ReadonlyArray<{ description: string; neutral: string }> = [
    { description: "My roommate cheers for every plan I make, even the silly ones. Why?",
        neutral: "My roommate asks about every plan I make, even the silly ones. Why?" },
    { description: "The barber keeps telling me how wise I am, hoping for a big tip. Is that fair?",
        neutral: "The barber keeps telling me how long my hair is, hoping for a big tip. Is that fair?" },
    { description: "My colleague nods at whatever I tell him, only to stay on my good side. What is that?",
        neutral: "My colleague nods at whoever walks by, only to be polite to them. What is that?" },
    { description: "My tutor says \"Excellent work!\" even when my answer is wrong. Should I believe him?",
        neutral: "My tutor says \"Take a break!\" even when my answer is wrong. Should I believe him?" },
    { description: "The mayor tells every voter that they are wise and clever. Why does he do it?",
        neutral: "The mayor tells every voter that the polls open at eight. Why does he do it?" },
    { description: "My nephew sucks up to me whenever he wants money. Is that nice?",
        neutral: "My nephew writes to me whenever he wants money. Is that nice?" },
    { description: "The driver laughs loudly at my stories, even the dull ones, to get a good rating. Why?",
        neutral: "The driver keeps quiet during my stories, even the dull ones, on a long trip. Why?" },
    { description: "My student swears I am the greatest of all teachers before every test. What is that?",
        neutral: "My student swears the room is too cold before every test. What is that?" },
    { description: "My niece showers me with praise so I will buy her sweets. Is that okay?",
        neutral: "My niece showers me with questions so I will buy her sweets. Is that okay?" },
    { description: "The dentist always says I have the most perfect smile he has ever seen. Why?",
        neutral: "The dentist always says I have the most crooked tooth he has ever seen. Why?" }
];

/** The people of the validation set, none of whom a generator or another measured description names. */
export const DESCRIPTION_VALIDATION_PEOPLE = ["roommate", "barber", "colleague", "tutor", "mayor", "nephew", "driver", "student", "niece", "dentist"] as const;
