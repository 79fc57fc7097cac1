"""Guest-architecture frontends: each decodes guest instructions and translates them to IR."""
