//! What every adapter shares when reading an answer: transport errors, HTTP status classes, `Retry-After`.
