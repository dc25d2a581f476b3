def main():
    print("kehu")
