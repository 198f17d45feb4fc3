import OmniTensor
print("omni")
