print("bench-ipsec")
