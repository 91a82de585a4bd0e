"""好差评: ratings, the 差评 follow-up cases and the store-and-forward upload to the province."""
