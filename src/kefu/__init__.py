def main() -> None:
    print("Hello from kefu!")
