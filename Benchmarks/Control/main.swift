print("bench-control")
