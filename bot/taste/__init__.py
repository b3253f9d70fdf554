"""For you: each person's picks, learned from what they save and mark Not interested.

`features` (the library as TF-IDF vectors, derived data kept beside the index), `model` (one
person's taste: interests, a linear SVM each), `picks` (`ForYou`: a person's best papers of the
library or of a pool, each with the saved paper it is most like).
"""
