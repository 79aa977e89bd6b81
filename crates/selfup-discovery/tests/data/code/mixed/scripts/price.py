"""Price formatting for the nightly export."""


def format_price(amount, currency):
    rounded = round(amount, 2)
    whole, _, cents = f"{rounded:.2f}".partition(".")
    grouped = f"{int(whole):,}"
    return f"{currency} {grouped}.{cents}"


def format_discount(rate, label):
    percent = round(rate, 1)
    text, _, tenths = f"{percent:.1f}".partition(".")
    padded = f"{int(text):>3}"
    return f"{label} -{padded}.{tenths}%"
