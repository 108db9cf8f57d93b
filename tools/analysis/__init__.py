"""Reading a pump's records after the fact: the trumpet curve and the trend plot."""
