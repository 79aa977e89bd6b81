// empty: only the dependencies matter
