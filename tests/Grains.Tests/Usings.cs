global using Collections.Grains;
